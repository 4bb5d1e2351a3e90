"""Voice activity and endpointing: when did the user start talking, and when are they done.

Silero VAD (its ONNX model ships in the ``silero-vad`` wheel, one thread) scores each
32 ms frame; :class:`Endpointer` turns scores into turns: it keeps ~300 ms of pre-roll
so the first syllable is not clipped, waits for a configurable stretch of silence, and
drops bursts shorter than ``min_speech_ms`` so a cough or a click never becomes a turn.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from seesay.audio import SAMPLE_RATE as RATE
from seesay.config import VoiceSettings
from seesay.errors import AudioError

log = logging.getLogger(__name__)

FRAME = 512  # Silero's frame at 16 kHz: 32 ms
FRAME_S = FRAME / RATE

SpeechScorer = Callable[[np.ndarray], float]


class SileroVAD:
    """Speech probability per 512-sample frame; stateful, so one instance per audio stream."""

    _lock = threading.Lock()

    def __init__(self) -> None:
        try:
            import torch
            from silero_vad import load_silero_vad
        except ImportError as e:
            raise AudioError("Voice detection needs the silero-vad package (pip install silero-vad).") from e
        self._torch = torch
        with SileroVAD._lock:  # model loading is not re-entrant across threads in onnxruntime setup
            self._model = load_silero_vad(onnx=True)

    def __call__(self, frame: np.ndarray) -> float:
        if len(frame) != FRAME:
            raise ValueError(f"Silero VAD takes frames of {FRAME} samples at 16 kHz, got {len(frame)}")
        x = self._torch.from_numpy(np.ascontiguousarray(frame, dtype=np.float32))
        return float(self._model(x, RATE).item())

    def reset(self) -> None:
        self._model.reset_states()


@dataclass
class VadEvent:
    kind: Literal["speech_start", "utterance", "discarded"]
    audio: np.ndarray | None = None
    speech_s: float = 0.0  # voiced time in the utterance
    silence_s: float = 0.0  # trailing silence waited for before ending it


@dataclass
class EndpointConfig:
    threshold: float = 0.5
    end_silence_ms: int = 500
    min_speech_ms: int = 250
    preroll_ms: int = 300
    max_utterance_s: float = 30.0
    keep_tail_ms: int = 150  # trailing silence kept so Whisper hears the last phoneme end


@dataclass
class _Turn:
    frames: list[np.ndarray] = field(default_factory=list)
    voiced: int = 0
    silence: int = 0
    started: bool = False  # speech_start already reported


class Endpointer:
    """Consumes 32 ms frames, emits ``speech_start`` then ``utterance`` (or ``discarded``)."""

    def __init__(self, scorer: SpeechScorer, config: EndpointConfig | None = None) -> None:
        self.scorer = scorer
        self.config = config or EndpointConfig()
        c = self.config
        self._preroll: deque[np.ndarray] = deque(maxlen=max(1, round(c.preroll_ms / 1000 / FRAME_S)))
        self._end_frames = max(1, round(c.end_silence_ms / 1000 / FRAME_S))
        self._min_frames = max(1, round(c.min_speech_ms / 1000 / FRAME_S))
        self._max_frames = max(self._min_frames, round(c.max_utterance_s / FRAME_S))
        self._tail_frames = round(c.keep_tail_ms / 1000 / FRAME_S)
        self._turn: _Turn | None = None
        self.last_probability = 0.0

    @property
    def in_speech(self) -> bool:
        return self._turn is not None

    def reset(self) -> None:
        """Forget everything (after playback, when the mic was gated)."""
        self._preroll.clear()
        self._turn = None
        reset = getattr(self.scorer, "reset", None)
        if reset is not None:
            reset()

    def feed(self, frame: np.ndarray) -> list[VadEvent]:
        c = self.config
        p = self.scorer(frame)
        self.last_probability = p
        turn = self._turn
        if turn is None:
            if p >= c.threshold:
                turn = self._turn = _Turn(frames=list(self._preroll))
                self._preroll.clear()
            else:
                self._preroll.append(frame)
                return []
        turn.frames.append(frame)
        # hysteresis: once talking, a dip just under the threshold is still speech
        if p >= c.threshold or (p >= c.threshold - 0.15 and turn.silence == 0):
            turn.voiced += 1
            turn.silence = 0
        else:
            turn.silence += 1
        events: list[VadEvent] = []
        if not turn.started and turn.voiced >= self._min_frames:
            turn.started = True
            events.append(VadEvent("speech_start", speech_s=turn.voiced * FRAME_S))
        if turn.silence >= self._end_frames or len(turn.frames) >= self._max_frames:
            events.append(self._finish(turn))
        return events

    def flush(self) -> list[VadEvent]:
        """End of input: whatever speech is pending ends here."""
        if self._turn is None:
            return []
        return [self._finish(self._turn)]

    def _finish(self, turn: _Turn) -> VadEvent:
        self._turn = None
        silence_s = turn.silence * FRAME_S
        if turn.voiced < self._min_frames:
            log.debug("discarded %.0f ms of sound: too short for speech", turn.voiced * FRAME_S * 1000)
            return VadEvent("discarded", speech_s=turn.voiced * FRAME_S, silence_s=silence_s)
        keep = len(turn.frames) - max(0, turn.silence - self._tail_frames)
        audio = np.concatenate(turn.frames[:keep])
        return VadEvent("utterance", audio=audio, speech_s=turn.voiced * FRAME_S, silence_s=silence_s)


def frames_of(audio: np.ndarray) -> list[np.ndarray]:
    """Split 16 kHz audio into whole 512-sample frames (the last one zero-padded)."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    pad = (-len(audio)) % FRAME
    if pad:
        audio = np.concatenate([audio, np.zeros(pad, dtype=np.float32)])
    return list(audio.reshape(-1, FRAME))


def config_from(settings: VoiceSettings) -> EndpointConfig:
    """Endpointing options from the voice settings."""
    return EndpointConfig(
        threshold=settings.vad_threshold,
        end_silence_ms=settings.end_silence_ms,
        min_speech_ms=settings.min_speech_ms,
    )
