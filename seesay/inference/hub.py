"""Downloading chat models from the Hugging Face hub, and which ones fit this machine.

Without a CUDA GPU the right download is a quantized GGUF file for llama.cpp: a 4-bit
file is about a third of a parameter's bf16 size and several times faster on a CPU than
the same model run by torch in float32 (4 bytes a parameter). With a CUDA GPU the
safetensors weights run in bfloat16 on it. So each recommendation names both, and
``pull`` takes the GGUF on a machine without CUDA unless asked for the full weights.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import psutil

from seesay.errors import ModelNotFoundError
from seesay.inference.engine import Progress

log = logging.getLogger(__name__)

# Only the files a safetensors chat model needs: weights, config, tokenizer, template.
ALLOW = ["*.json", "*.safetensors", "tokenizer*", "*.jinja", "*.txt", "*.model", "*.tiktoken"]
Q4_BYTES_PER_PARAM = 0.6  # Q4_K_M averages ~4.8 bits a weight, embeddings at higher precision
RUNTIME_GB = 0.3  # llama.cpp's KV cache (4 slots, 4k tokens) and buffers beside the weights


@dataclass(frozen=True)
class Recommended:
    repo_id: str  # safetensors weights (GPU)
    gguf_repo: str  # quantized GGUF files (CPU, or a GPU through llama.cpp's CUDA build)
    params_b: float  # billions of parameters
    note: str

    def download_gb(self, gguf: bool) -> float:
        return self.params_b * (Q4_BYTES_PER_PARAM if gguf else 2.0)

    def memory_gb(self, gguf: bool) -> float:
        """RAM (GGUF) or GPU memory (bf16) it needs: weights plus the KV cache and buffers."""
        if gguf:
            return self.params_b * Q4_BYTES_PER_PARAM + RUNTIME_GB
        return self.params_b * 2.0 * 1.2


RECOMMENDED = [
    Recommended("HuggingFaceTB/SmolLM2-135M-Instruct", "", 0.135, "bundled; instant, basic answers"),
    Recommended(
        "HuggingFaceTB/SmolLM2-360M-Instruct",
        "HuggingFaceTB/SmolLM2-360M-Instruct-GGUF",
        0.36,
        "fast on any CPU",
    ),
    Recommended("Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-0.5B-Instruct-GGUF", 0.49, "small, multilingual"),
    Recommended(
        "HuggingFaceTB/SmolLM2-1.7B-Instruct",
        "HuggingFaceTB/SmolLM2-1.7B-Instruct-GGUF",
        1.7,
        "good small all-rounder",
    ),
    Recommended(
        "Qwen/Qwen2.5-1.5B-Instruct", "Qwen/Qwen2.5-1.5B-Instruct-GGUF", 1.5, "good at code for its size"
    ),
    Recommended(
        "Qwen/Qwen2.5-3B-Instruct", "Qwen/Qwen2.5-3B-Instruct-GGUF", 3.1, "strong; a laptop can run it"
    ),
    Recommended(
        "Qwen/Qwen2.5-7B-Instruct",
        "bartowski/Qwen2.5-7B-Instruct-GGUF",
        7.6,
        "best quality here; 8 GB of RAM, or a GPU",
    ),
]


def machine_memory_gb() -> tuple[float, float | None]:
    """(available RAM, free memory of the first CUDA GPU or None)."""
    ram = psutil.virtual_memory().available / 1e9
    gpu = None
    try:
        import torch

        if torch.cuda.is_available():
            free, _total = torch.cuda.mem_get_info()
            gpu = free / 1e9
    except Exception:  # a broken driver must not break a listing
        gpu = None
    return ram, gpu


def download_for(repo_id: str, cuda: bool) -> str:
    """The repository to download for ``repo_id`` on this machine: its GGUF sibling without CUDA."""
    if cuda:
        return repo_id
    for rec in RECOMMENDED:
        if rec.repo_id.lower() == repo_id.lower() and rec.gguf_repo:
            return rec.gguf_repo
    return repo_id


def pull(repo_id: str, progress: Progress | None = None) -> Path:
    """Download a model into the Hugging Face cache, reporting bytes as they arrive.

    A repository of GGUF files gets one file, the preferred quantization; any other gets
    the safetensors weights with config and tokenizer. Returns the file or the folder.
    """
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
    from tqdm.auto import tqdm

    from seesay.inference.resolve import pick_gguf

    report = progress or (lambda _f, _m: None)
    try:
        info = HfApi().model_info(repo_id, files_metadata=True, timeout=10)
    except RepositoryNotFoundError as e:
        raise ModelNotFoundError(
            f"Model '{repo_id}' does not exist on the Hugging Face hub (or needs a login)."
        ) from e
    except Exception as e:  # offline mode, DNS, proxy, TLS: all mean "cannot reach the hub"
        raise ModelNotFoundError(
            f"Cannot download '{repo_id}': the Hugging Face hub is not reachable from this machine "
            f"({type(e).__name__}). Download the model elsewhere and set model.name to its folder "
            "or .gguf file."
        ) from e
    siblings = {s.rfilename: s.size or 0 for s in (info.siblings or [])}
    gguf = None if "config.json" in siblings else pick_gguf(list(siblings))
    patterns = [gguf] if gguf else ALLOW
    total = sum(size for name, size in siblings.items() if _wanted(name, patterns)) or 1

    class _Bar(tqdm):
        done = 0

        def update(self, n: float | None = 1) -> bool | None:
            _Bar.done += int(n or 0)
            report(min(_Bar.done / total, 1.0), f"Downloading {repo_id}: {_Bar.done / 1e6:,.0f} MB")
            return super().update(n)

    try:
        path = Path(snapshot_download(repo_id, allow_patterns=patterns, tqdm_class=_Bar))
    except (HfHubHTTPError, OSError) as e:
        raise ModelNotFoundError(f"Download of '{repo_id}' failed: {e}") from e
    report(1.0, f"Downloaded {repo_id}")
    return path / gguf if gguf else path


def _wanted(name: str, patterns: list[str]) -> bool:
    from fnmatch import fnmatch

    return any(fnmatch(name, pattern) for pattern in patterns)
