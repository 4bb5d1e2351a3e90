"""Downloading chat models from the Hugging Face hub, and which ones fit this machine."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import psutil

from seesay.errors import ModelNotFoundError
from seesay.inference.engine import Progress

log = logging.getLogger(__name__)

# Only the files a chat model needs: weights as safetensors, config, tokenizer, template.
ALLOW = ["*.json", "*.safetensors", "tokenizer*", "*.jinja", "*.txt", "*.model", "*.tiktoken"]


@dataclass(frozen=True)
class Recommended:
    repo_id: str
    params_b: float  # billions of parameters
    note: str

    @property
    def download_gb(self) -> float:
        return self.params_b * 2.0  # bf16 safetensors

    def memory_gb(self, on_gpu: bool) -> float:
        """Weights plus ~20% for the KV cache and activations (fp32 on CPU, bf16 on GPU)."""
        return self.params_b * (2.0 if on_gpu else 4.0) * 1.2


RECOMMENDED = [
    Recommended("HuggingFaceTB/SmolLM2-135M-Instruct", 0.135, "bundled; instant, basic answers"),
    Recommended("HuggingFaceTB/SmolLM2-360M-Instruct", 0.36, "fast on any CPU"),
    Recommended("Qwen/Qwen2.5-0.5B-Instruct", 0.49, "small, multilingual"),
    Recommended("HuggingFaceTB/SmolLM2-1.7B-Instruct", 1.7, "good small all-rounder"),
    Recommended("Qwen/Qwen2.5-1.5B-Instruct", 1.5, "good at code for its size"),
    Recommended("Qwen/Qwen2.5-3B-Instruct", 3.1, "strong; wants a GPU"),
    Recommended("Qwen/Qwen2.5-7B-Instruct", 7.6, "best quality here; needs a 16 GB+ GPU"),
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


def pull(repo_id: str, progress: Progress | None = None) -> Path:
    """Download a model into the Hugging Face cache, reporting bytes as they arrive."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
    from tqdm.auto import tqdm

    report = progress or (lambda _f, _m: None)
    try:
        info = HfApi().model_info(repo_id, files_metadata=True, timeout=10)
    except RepositoryNotFoundError as e:
        raise ModelNotFoundError(f"Model '{repo_id}' does not exist on the Hugging Face hub "
                                 "(or needs a login).") from e
    except Exception as e:  # offline mode, DNS, proxy, TLS: all mean "cannot reach the hub"
        raise ModelNotFoundError(
            f"Cannot download '{repo_id}': the Hugging Face hub is not reachable from this machine "
            f"({type(e).__name__}). Download the model elsewhere and set model.name to its folder.") from e
    total = sum((s.size or 0) for s in (info.siblings or []) if _wanted(s.rfilename)) or 1

    class _Bar(tqdm):  # type: ignore[misc]
        done = 0

        def update(self, n: float | None = 1) -> bool | None:
            _Bar.done += int(n or 0)
            report(min(_Bar.done / total, 1.0), f"Downloading {repo_id}: {_Bar.done / 1e6:,.0f} MB")
            return super().update(n)

    try:
        path = snapshot_download(repo_id, allow_patterns=ALLOW, tqdm_class=_Bar)
    except (HfHubHTTPError, OSError) as e:
        raise ModelNotFoundError(f"Download of '{repo_id}' failed: {e}") from e
    report(1.0, f"Downloaded {repo_id}")
    return Path(path)


def _wanted(name: str) -> bool:
    from fnmatch import fnmatch

    return any(fnmatch(name, pattern) for pattern in ALLOW)
