"""Headless Qt, isolated user dirs, and the models tests run on.

Every test gets its own SEESAY_HOME (config, history, caches) so nothing touches the
real user dirs; the converted bundled model is shared through one session cache so
the ~17 s GGUF conversion happens once per test run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --no-sandbox")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
for var in [v for v in os.environ if v.startswith("SEESAY_") and not v.startswith("SEESAY_TEST_")]:
    del os.environ[var]


@pytest.fixture(scope="session")
def shared_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shared-cache") / "models"
    path.mkdir()
    return path


def _home_sharing_models(home: Path, shared_models: Path) -> Path:
    (home / "cache").mkdir(parents=True, exist_ok=True)
    link = home / "cache" / "models"
    if not link.exists():
        link.symlink_to(shared_models, target_is_directory=True)
    return home


@pytest.fixture(autouse=True)
def seesay_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_models: Path) -> Path:
    home = _home_sharing_models(tmp_path / "seesay-home", shared_models)
    monkeypatch.setenv("SEESAY_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def bundled_model_dir(shared_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled SmolLM2 converted to safetensors (once per session)."""
    return _bundled(shared_models, tmp_path_factory)


def _bundled(shared_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seesay.inference import resolve

    mp = pytest.MonkeyPatch()
    home = _home_sharing_models(tmp_path_factory.mktemp("bundled-home"), shared_models)
    mp.setenv("SEESAY_HOME", str(home))
    try:
        model = resolve.resolve("")
        return resolve.convert_gguf(model)
    finally:
        mp.undo()


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory, shared_models: Path) -> Path:
    """SmolLM2's tokenizer and chat template; SEESAY_TEST_TOKENIZER_DIR supplies them on
    machines that lack the bundled model package (a lent GPU box)."""
    given = os.environ.get("SEESAY_TEST_TOKENIZER_DIR")
    if given:
        return Path(given)
    return _bundled(shared_models, tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_model_dir(tokenizer_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer Llama with the real SmolLM2 tokenizer and chat template.

    Fast enough for unit and GUI tests (~1 ms a token) while exercising the same code
    path as the bundled model.
    """
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        rope_theta=10000.0,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def bundled_llama() -> Iterator[Any]:
    """The bundled SmolLM2 GGUF on the project's llama.cpp engine, as the window loads it (once)."""
    from seesay.config import Settings
    from seesay.inference import create_engine

    engine = create_engine(Settings())
    engine.load()
    yield engine
    engine.close()
