"""One reply, spoken while it is written: LLM deltas → sentences → TTS → an audio sink.

The caller's thread reads the LLM stream and cuts sentences; a second thread runs TTS
and hands audio to the sink (the speaker, or a list for a file), so sentence 1 is
heard while the model writes sentence 2. Both the live loop and the one-turn file run
use this, so their latency figures mean the same thing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from seesay.audio.sentences import SentenceSplitter
from seesay.audio.speakable import speakable
from seesay.audio.tts import Synthesizer
from seesay.inference.engine import Stream

log = logging.getLogger(__name__)

AudioSink = Callable[[np.ndarray, int], None]

# While the first sentence is synthesised the reader stops pulling tokens (the transformers
# engine decodes lazily, so it pauses; llama.cpp decodes on, and the tokens wait in the
# stream): on a small CPU the LLM and the TTS otherwise split the cores and the first sound
# comes later. Later sentences have the whole first one's playing time to be ready in, so
# they lose nothing audible. Bounded, in case TTS stalls.
FIRST_AUDIO_WAIT_S = 2.0


@dataclass
class ReplyTiming:
    started: float = 0.0  # perf_counter when the LLM stream was started
    first_sentence_at: float | None = None  # first speakable sentence complete
    first_audio_at: float | None = None  # its audio handed to the sink
    first_tts_s: float | None = None  # synthesis time of that first chunk

    def since_start(self, t: float | None) -> float | None:
        return None if t is None else t - self.started


@dataclass
class ReplyResult:
    text: str
    status: str  # complete | interrupted
    sentences: int
    timing: ReplyTiming


class ReplySpeaker:
    """Speak one streamed reply; :meth:`cancel` (any thread) stops text and speech."""

    def __init__(
        self,
        synthesizer: Synthesizer,
        sink: AudioSink,
        *,
        on_delta: Callable[[str], None] | None = None,
        on_sentence: Callable[[str], None] | None = None,
    ) -> None:
        self.synthesizer = synthesizer
        self.sink = sink
        self.on_delta = on_delta
        self.on_sentence = on_sentence
        self._cancel = threading.Event()
        self._first_done = threading.Event()  # the first sentence is synthesised (or never will be)
        self._stream: Stream | None = None
        self.error: Exception | None = None

    def cancel(self) -> None:
        self._cancel.set()
        self._first_done.set()
        if self._stream is not None:
            self._stream.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self, stream: Stream) -> ReplyResult:
        """Blocks until the reply is fully synthesised (or cancelled)."""
        self._stream = stream
        if self._cancel.is_set():
            stream.cancel()
        timing = ReplyTiming(started=time.perf_counter())
        sentences: queue.Queue[str | None] = queue.Queue()
        tts = threading.Thread(target=self._speak, args=(sentences, timing), name="seesay-tts", daemon=True)
        tts.start()
        splitter = SentenceSplitter(early=True)  # the first clause is spoken as soon as it is written
        parts: list[str] = []
        count = 0

        def push(pieces: list[str]) -> None:
            nonlocal count
            for piece in pieces:
                words = speakable(piece)
                if not words:
                    continue
                if timing.first_sentence_at is None:
                    timing.first_sentence_at = time.perf_counter()
                count += 1
                if self.on_sentence is not None:
                    self.on_sentence(words)
                sentences.put(words)
                if count == 1:
                    self._first_done.wait(FIRST_AUDIO_WAIT_S)

        try:
            for delta in stream:
                parts.append(delta)
                if self.on_delta is not None:
                    self.on_delta(delta)
                if self._cancel.is_set():
                    continue  # the cancelled stream ends at its next token; let it finish and save
                push(splitter.feed(delta))
            if not self._cancel.is_set():
                push(splitter.flush())
        finally:
            sentences.put(None)
            tts.join()
            self._first_done.set()
        if self.error is not None and not self._cancel.is_set():
            raise self.error
        status = "interrupted" if self._cancel.is_set() or stream.cancelled else "complete"
        return ReplyResult("".join(parts), status, count, timing)

    def _speak(self, sentences: queue.Queue[str | None], timing: ReplyTiming) -> None:
        while True:
            text = sentences.get()
            if text is None:
                self._first_done.set()
                return
            if self._cancel.is_set() or self.error is not None:
                continue  # drain the queue so run() can finish
            try:
                t0 = time.perf_counter()
                for chunk in self.synthesizer.stream(text):
                    if self._cancel.is_set():
                        break
                    if timing.first_audio_at is None:
                        timing.first_audio_at = time.perf_counter()
                        timing.first_tts_s = timing.first_audio_at - t0
                    self.sink(chunk, self.synthesizer.sample_rate)
                    self._first_done.set()
                self._first_done.set()  # also when the sentence made no sound
            except Exception as e:  # TTS or device failure: stop speaking, let run() report it
                log.error("speaking failed: %s", e)
                self.error = e
                self._first_done.set()
                if self._stream is not None:
                    self._stream.cancel()
