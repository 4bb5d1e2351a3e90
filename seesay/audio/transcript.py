"""What speech recognition gives back, and the check that spares Whisper silent audio.

Shared by both Whisper backends (:mod:`seesay.audio.stt`, :mod:`seesay.audio.whisper_backend`)
and everything that reads their results, so neither backend depends on the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from seesay.audio import SAMPLE_RATE

SILENCE_RMS = 1e-3  # about -60 dBFS: nothing to transcribe below this


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass
class Transcript:
    text: str
    segments: list[Segment] = field(default_factory=list)
    language: str = ""
    duration: float = 0.0  # seconds of audio
    seconds: float = 0.0  # wall time spent

    @property
    def rtf(self) -> float:
        return self.seconds / self.duration if self.duration else 0.0

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]


@runtime_checkable
class Transcriber(Protocol):
    """Anything that turns 16 kHz mono float32 audio into text."""

    name: str

    def transcribe(self, audio: np.ndarray, *, offset: float = 0.0) -> Transcript:
        """``offset`` shifts segment times (for windows of a longer file)."""


def prepare_audio(audio: np.ndarray, language: str | None) -> tuple[np.ndarray, float, Transcript | None]:
    """Flat float32 16 kHz samples, their duration, and an empty transcript when there is
    nothing to hear (Whisper invents words such as "Thank you." in silence)."""
    audio = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
    duration = len(audio) / SAMPLE_RATE
    if not len(audio) or rms(audio) < SILENCE_RMS:
        return audio, duration, Transcript("", [], language or "", duration, 0.0)
    return audio, duration, None


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0
