"""The bundled MiniLM's numpy forward pass against transformers running the same weights."""

from __future__ import annotations

import numpy as np
import pytest

from seesay.inference.embeddings import DIMENSIONS, MAX_TOKENS, embedder, model_dir

TEXTS = [
    "What's the weather in Paris?",
    "calculator: Evaluates arithmetic exactly",
    "The mitochondria is the powerhouse of the cell. " * 60,  # past MAX_TOKENS: truncated alike
    "x",
]


def reference(texts: list[str]) -> np.ndarray:
    torch = pytest.importorskip("torch")
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir())
    model = AutoModel.from_pretrained(model_dir()).eval()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(mean, dim=-1).numpy()


def test_matches_transformers_on_the_same_weights() -> None:
    ours = embedder().embed(TEXTS)
    theirs = reference(TEXTS)
    assert ours.shape == (len(TEXTS), DIMENSIONS)
    assert np.abs(ours - theirs).max() < 1e-4
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_padding_does_not_change_a_text() -> None:
    alone = embedder().embed(["a short question"])[0]
    padded = embedder().embed(["a short question", "a much longer sentence that forces padding " * 5])[0]
    assert np.abs(alone - padded).max() < 1e-5


def test_meaning_orders_similarity() -> None:
    texts = ["How do I bake bread?", "A recipe for baking a loaf", "Stock market news"]
    q, near, far = embedder().embed(texts)
    assert q @ near > q @ far + 0.2


def test_no_texts_no_rows() -> None:
    assert embedder().embed([]).shape == (0, DIMENSIONS)
