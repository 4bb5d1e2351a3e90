"""Microphone capture: any device, any rate → 16 kHz mono float32 frames for the VAD.

The PortAudio callback only downmixes, resamples and writes into a bounded ring buffer
(oldest audio is dropped if the reader falls behind, never memory growth). Readers pull
512-sample frames. A stream error or a device that stops delivering (unplugged) is
raised from :meth:`Capture.read` as :class:`AudioError`, so the voice loop can report it
and stop cleanly instead of hanging or crashing.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np

from seesay.audio import SAMPLE_RATE as RATE
from seesay.audio.devices import Device, find_device, sounddevice
from seesay.audio.resample import Resampler, to_mono
from seesay.errors import AudioError

log = logging.getLogger(__name__)

FRAME = 512
BLOCK_S = 0.02  # fixed small blocks: PortAudio's default size starves on PulseAudio's ALSA plugin
STARTUP_S = 5.0
LATENCY_S = 0.1  # explicit latency: PortAudio's "low"/"high" presets stall on PulseAudio's ALSA plugin


class RingBuffer:
    """Fixed-capacity float32 FIFO; writing past capacity drops the oldest samples."""

    def __init__(self, capacity: int) -> None:
        self._data = np.zeros(capacity, dtype=np.float32)
        self._start = 0
        self._size = 0
        self.dropped = 0

    def __len__(self) -> int:
        return self._size

    def write(self, x: np.ndarray) -> None:
        cap = len(self._data)
        if len(x) >= cap:
            self.dropped += self._size + len(x) - cap
            x = x[-cap:]
            self._start, self._size = 0, 0
        overflow = self._size + len(x) - cap
        if overflow > 0:
            self._start = (self._start + overflow) % cap
            self._size -= overflow
            self.dropped += overflow
        end = (self._start + self._size) % cap
        first = min(len(x), cap - end)
        self._data[end : end + first] = x[:first]
        self._data[: len(x) - first] = x[first:]
        self._size += len(x)

    def read(self, n: int) -> np.ndarray:
        n = min(n, self._size)
        cap = len(self._data)
        idx = (self._start + np.arange(n)) % cap
        out = self._data[idx]
        self._start = (self._start + n) % cap
        self._size -= n
        return out

    def clear(self) -> None:
        self._start, self._size = 0, 0


class Capture:
    """A running microphone. ``read()`` blocks for the next 32 ms frame."""

    def __init__(
        self,
        device: str | int | None = None,
        *,
        buffer_s: float = 30.0,
        stall_timeout: float = 2.0,
        latency: float = LATENCY_S,
    ) -> None:
        self.device: Device = find_device(device, "input")
        self.samplerate = int(self.device.default_samplerate) or RATE
        self.stall_timeout = stall_timeout
        self.latency = latency
        self._ring = RingBuffer(int(buffer_s * RATE))
        self._cond = threading.Condition()
        self._resampler = Resampler(self.samplerate, RATE)
        self._stream: Any = None
        self._error: AudioError | None = None
        self._last_callback = 0.0
        self._started = False
        self._stopping = False
        self.level = 0.0  # RMS of the last callback block, 0..1

    def start(self) -> Capture:
        sd = sounddevice()
        channels = max(1, min(self.device.max_input_channels, 1))
        try:
            self._stream = sd.InputStream(
                device=self.device.index,
                samplerate=self.samplerate,
                channels=channels,
                dtype="float32",
                latency=self.latency,
                blocksize=int(self.samplerate * BLOCK_S),
                callback=self._callback,
                finished_callback=self._finished,
            )
            self._last_callback = time.monotonic()
            self._stream.start()
        except (sd.PortAudioError, ValueError) as e:
            self._stream = None
            raise AudioError(f"The microphone {self.device.name!r} could not be opened: {e}") from e
        log.info("capturing from %s at %d Hz", self.device.label(), self.samplerate)
        return self

    def _callback(self, indata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        if status.input_overflow:
            log.debug("input overflow: the sound system dropped microphone audio")
        mono = to_mono(indata)
        self.level = float(np.sqrt(np.mean(np.square(mono)))) if len(mono) else 0.0
        out = self._resampler.process(mono)
        with self._cond:
            self._last_callback = time.monotonic()
            self._started = True
            self._ring.write(out)
            self._cond.notify_all()

    def _finished(self) -> None:
        with self._cond:
            if self._stream is not None and self._error is None and not self._stopping:
                self._error = AudioError(f"The microphone {self.device.name!r} stopped (was it unplugged?).")
            self._cond.notify_all()

    def read(self, timeout: float = 1.0) -> np.ndarray | None:
        """Next 512-sample frame, or None if none arrived within ``timeout``.

        Raises :class:`AudioError` when the stream has died or delivered nothing for
        ``stall_timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._ring) < FRAME:
                if self._error is not None:
                    raise self._error
                now = time.monotonic()
                # some sound servers take a second or two to deliver the first block
                allowed = self.stall_timeout if self._started else max(self.stall_timeout, STARTUP_S)
                if self._stream is not None and now - self._last_callback > allowed:
                    self._error = AudioError(
                        f"The microphone {self.device.name!r} stopped delivering sound (was it unplugged?)."
                    )
                    raise self._error
                if now >= deadline:
                    return None
                self._cond.wait(min(deadline - now, 0.1))
            return self._ring.read(FRAME)

    def clear(self) -> None:
        """Drop buffered audio (e.g. the room's echo of our own voice)."""
        with self._cond:
            self._ring.clear()

    @property
    def buffered_s(self) -> float:
        return len(self._ring) / RATE

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        self._stopping = True
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception:  # a vanished device can fail to close; nothing left to release
                log.debug("closing the input stream failed", exc_info=True)
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> Capture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
