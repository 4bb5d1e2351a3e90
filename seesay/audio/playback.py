"""Speaker output fed from a queue of chunks, stoppable at once, timing the first sound.

The output stream stays open between replies (opening one costs up to a second on some
sound servers, which would land on every reply's latency) and plays silence when idle.
``stop()`` empties the queue and returns once the callback has seen it, i.e. within one
20 ms block. The time the first sample of a reply reaches the speaker is computed from
PortAudio's ``outputBufferDacTime``: what the user actually hears, not when we queued it.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from seesay.audio.devices import Device, find_device, sounddevice
from seesay.audio.resample import Resampler
from seesay.errors import AudioError

log = logging.getLogger(__name__)

BLOCK_S = 0.02
LATENCY_S = 0.1


class Player:
    """``play(chunk, rate)`` queues audio; ``stop()`` silences it; ``wait()`` until drained."""

    def __init__(
        self,
        device: str | int | None = None,
        *,
        latency: float = LATENCY_S,
        on_first_sample: Callable[[float], None] | None = None,
    ) -> None:
        self.device: Device = find_device(device, "output")
        self.samplerate = int(self.device.default_samplerate) or 48000
        self.latency = latency
        self.on_first_sample = on_first_sample
        self._queue: collections.deque[np.ndarray] = collections.deque()
        self._lock = threading.Lock()
        self._drained = threading.Condition(self._lock)
        self._resamplers: dict[int, Resampler] = {}
        self._current: np.ndarray | None = None
        self._pos = 0
        self._generation = 0  # bumped by stop(); the callback acknowledges it
        self._seen_generation = 0
        self._reply_started = False
        self.first_sample_at: float | None = None  # perf_counter when the reply's first sample sounds
        self.samples_played = 0
        self._stream: Any = None
        self._error: AudioError | None = None

    def start(self) -> Player:
        if self._stream is not None:
            return self
        sd = sounddevice()
        try:
            self._stream = sd.OutputStream(
                device=self.device.index,
                samplerate=self.samplerate,
                channels=1,
                dtype="float32",
                latency=self.latency,
                blocksize=int(self.samplerate * BLOCK_S),
                callback=self._callback,
                finished_callback=self._finished,
            )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as e:
            self._stream = None
            raise AudioError(f"The speaker {self.device.name!r} could not be opened: {e}") from e
        log.info("playing to %s at %d Hz", self.device.label(), self.samplerate)
        return self

    def play(self, chunk: np.ndarray, rate: int) -> None:
        """Queue mono float32 audio at ``rate``; resampled to the device rate here, not in the callback."""
        if self._error is not None:
            raise self._error
        chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)
        if rate != self.samplerate:
            r = self._resamplers.setdefault(rate, Resampler(rate, self.samplerate))
            chunk = np.concatenate([r.process(chunk), r.flush()])[r.delay :]
            self._resamplers.pop(rate)  # chunks are whole sentences: a fresh filter each keeps them aligned
        with self._lock:
            self._queue.append(chunk)

    def new_reply(self) -> None:
        """Reset first-sample timing for the next reply."""
        with self._lock:
            self._reply_started = False
            self.first_sample_at = None

    def _callback(self, out: np.ndarray, frames: int, t: Any, status: Any) -> None:
        if status.output_underflow:
            log.debug("output underflow")
        buf = out[:, 0]
        filled = 0
        with self._lock:
            if self._seen_generation != self._generation:
                self._seen_generation = self._generation
                self._drained.notify_all()
            while filled < frames:
                if self._current is None or self._pos >= len(self._current):
                    if not self._queue:
                        break
                    self._current, self._pos = self._queue.popleft(), 0
                n = min(frames - filled, len(self._current) - self._pos)
                buf[filled : filled + n] = self._current[self._pos : self._pos + n]
                if not self._reply_started:
                    self._reply_started = True
                    delay = max(0.0, (t.outputBufferDacTime - t.currentTime)) if t.currentTime else 0.0
                    self.first_sample_at = time.perf_counter() + delay + filled / self.samplerate
                    if self.on_first_sample is not None:
                        self.on_first_sample(self.first_sample_at)
                filled += n
                self._pos += n
            self.samples_played += filled
            if filled < frames:
                buf[filled:] = 0.0
                if not self._queue and (self._current is None or self._pos >= len(self._current)):
                    self._drained.notify_all()

    def _finished(self) -> None:
        with self._lock:
            if self._stream is not None:
                self._error = AudioError(f"The speaker {self.device.name!r} stopped (was it unplugged?).")
            self._drained.notify_all()

    @property
    def playing(self) -> bool:
        with self._lock:
            return bool(self._queue) or (self._current is not None and self._pos < len(self._current))

    def stop(self, timeout: float = 0.1) -> bool:
        """Drop everything queued; True once the callback has stopped producing it."""
        with self._lock:
            self._queue.clear()
            self._current, self._pos = None, 0
            self._generation += 1
            if self._stream is None or not self._stream.active:
                return True
            return self._drained.wait_for(lambda: self._seen_generation == self._generation, timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything queued has been handed to the sound system."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._queue or (self._current is not None and self._pos < len(self._current)):
                if self._error is not None:
                    raise self._error
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._drained.wait(0.1 if left is None else min(left, 0.1))
        return True

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception:  # a vanished device can fail to close
                log.debug("closing the output stream failed", exc_info=True)

    def __enter__(self) -> Player:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
