"""The openai-whisper backend's loading and decoding, on a tiny random checkpoint."""

from __future__ import annotations

import numpy as np
import pytest

from seesay.audio.whisper_backend import OpenAIWhisperTranscriber
from seesay.errors import AudioError

whisper = pytest.importorskip("whisper")


@pytest.fixture(scope="module")
def random_checkpoint(tmp_path_factory) -> str:
    import torch
    from whisper.model import ModelDimensions, Whisper

    dims = ModelDimensions(
        n_mels=80,
        n_audio_ctx=1500,
        n_audio_state=64,
        n_audio_head=2,
        n_audio_layer=1,
        n_vocab=51864,
        n_text_ctx=448,
        n_text_state=64,
        n_text_head=2,
        n_text_layer=1,
    )
    torch.manual_seed(0)
    model = Whisper(dims)
    path = tmp_path_factory.mktemp("whisper") / "tiny-random.en.pt"
    torch.save({"dims": dims.__dict__, "model_state_dict": model.state_dict()}, path)
    return str(path)


def test_random_checkpoint_loads_and_decodes(random_checkpoint) -> None:
    t = OpenAIWhisperTranscriber(random_checkpoint, device="cpu", language="en")
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(16000) * 0.1).astype(np.float32)
    r = t.transcribe(audio, offset=5.0)
    assert t.language == "en"  # n_vocab 51864: an English-only model
    assert isinstance(r.text, str) and r.duration == pytest.approx(1.0)
    assert all(s.start >= 5.0 for s in r.segments)
    assert t.transcribe(np.zeros(16000, dtype=np.float32)).text == ""


def test_bad_checkpoint_and_missing_setting(tmp_path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(AudioError, match="could not be loaded"):
        OpenAIWhisperTranscriber(str(bad), device="cpu").load()
    with pytest.raises(AudioError, match="stt_model"):
        OpenAIWhisperTranscriber("")
