"""openai-whisper backend, for users who already have its ``.pt`` checkpoints.

Optional: the ``whisper`` package is imported only when this backend is chosen, and a
missing package or checkpoint is an :class:`AudioError` saying so. No package ships the
weights, so ``voice.stt_model`` must name a ``.pt`` file (or a model name already in
whisper's download cache).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from seesay.audio.transcript import Segment, Transcript, Word, prepare_audio
from seesay.errors import AudioError

log = logging.getLogger(__name__)


class OpenAIWhisperTranscriber:
    def __init__(
        self, model: str, *, device: str = "auto", language: str = "en", word_timestamps: bool = False
    ) -> None:
        if not model:
            raise AudioError("The openai-whisper backend needs voice.stt_model set to a .pt checkpoint.")
        self.model_spec = model
        self.device = device
        self.language = language or None
        self.word_timestamps = word_timestamps
        self.name = f"openai-whisper:{Path(model).name}"
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        if self._model is not None:
            return
        try:
            import torch
            import whisper
        except ImportError as e:
            raise AudioError(
                "The openai-whisper backend needs its package: pip install openai-whisper."
            ) from e
        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        t0 = time.perf_counter()
        try:
            self._model = whisper.load_model(self.model_spec, device=device)
        except Exception as e:  # torch raises RuntimeError, UnpicklingError, KeyError, OSError...
            raise AudioError(f"The Whisper checkpoint {self.model_spec!r} could not be loaded: {e}") from e
        if not self._model.is_multilingual:
            self.language = "en"
        log.info(
            "loaded openai-whisper %s on %s in %.1f s", self.model_spec, device, time.perf_counter() - t0
        )

    def transcribe(self, audio: np.ndarray, *, offset: float = 0.0) -> Transcript:
        self.load()
        t0 = time.perf_counter()
        audio, duration, silent = prepare_audio(audio, self.language)
        if silent is not None:
            return silent
        fp16 = str(next(self._model.parameters()).device).startswith("cuda")
        with self._lock:  # one model, one decode at a time
            result = self._model.transcribe(
                audio,
                language=self.language,
                fp16=fp16,
                temperature=0.0,
                word_timestamps=self.word_timestamps,
                condition_on_previous_text=False,
                verbose=None,
            )
        segments = []
        for s in result.get("segments", []):
            words = tuple(
                Word(float(w["start"]) + offset, float(w["end"]) + offset, w["word"])
                for w in s.get("words", [])
            )
            segments.append(
                Segment(float(s["start"]) + offset, float(s["end"]) + offset, s["text"].strip(), words)
            )
        return Transcript(
            result.get("text", "").strip(),
            segments,
            result.get("language", ""),
            duration,
            time.perf_counter() - t0,
        )
