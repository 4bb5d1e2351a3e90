"""The chat models a user can pick: those on this machine, and recommended ones to download.

What the model picker in Settings lists (and `seesay models` prints): each entry with its
size on disk or to download, the memory it needs and whether that fits this machine.
Found without touching the network: the bundled model, GGUF and safetensors models in the
Hugging Face cache, and the one the settings name now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from seesay.inference import hub
from seesay.inference.resolve import BUNDLED_NAME, bundled_gguf

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    name: str  # what model.name gets: "" for the bundled model, a path or a hub id
    title: str
    size_gb: float  # on disk, or to download
    memory_gb: float
    fits: bool
    installed: bool
    note: str = ""


def entries(current: str = "") -> list[Entry]:
    """Installed models first (bundled, cache, the current one), then recommendations not yet here."""
    ram, gpu = hub.machine_memory_gb()
    gguf_wanted = gpu is None
    budget = ram if gguf_wanted else (gpu or 0.0)
    out: list[Entry] = []
    bundled = bundled_gguf()
    if bundled is not None:
        size = bundled.stat().st_size / 1e9
        out.append(
            Entry(
                "",
                f"{BUNDLED_NAME} (bundled)",
                size,
                size + hub.RUNTIME_GB,
                True,
                True,
                "instant, basic answers",
            )
        )
    seen = {""}
    for repo_id, size in _cached_models():
        need = _memory_for(size, repo_id)
        out.append(Entry(repo_id, repo_id, size, need, need <= ram, True, "downloaded"))
        seen.add(repo_id)
    if current.strip() and current.strip() not in seen and current.strip() != "bundled":
        path = Path(current).expanduser()
        size = _size_of(path) if path.exists() else 0.0
        out.append(
            Entry(
                current,
                path.name if path.exists() else current,
                size,
                _memory_for(size, current),
                True,
                path.exists(),
                "current setting",
            )
        )
        seen.add(current)
    for rec in hub.RECOMMENDED:
        repo = (rec.gguf_repo or rec.repo_id) if gguf_wanted else rec.repo_id
        if (not rec.gguf_repo and gguf_wanted) or repo in seen:
            continue
        need = rec.memory_gb(gguf_wanted)
        out.append(Entry(repo, repo, rec.download_gb(gguf_wanted), need, need <= budget, False, rec.note))
    return out


def _memory_for(size_gb: float, name: str) -> float:
    """A GGUF needs about its file size plus the KV cache; safetensors on torch ~1.2x their size."""
    gguf = name.lower().endswith(".gguf") or "gguf" in name.lower()
    return size_gb + hub.RUNTIME_GB if gguf else size_gb * 1.2


def _size_of(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e9
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e9


def _cached_models() -> list[tuple[str, float]]:
    """(repo id, GB) of chat models in the Hugging Face cache: a GGUF file or safetensors weights."""
    try:
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir()
    except Exception:  # no cache yet, or an unreadable one: nothing downloaded to offer
        log.debug("no Hugging Face cache to list", exc_info=True)
        return []
    found = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        names = {f.file_name for rev in repo.revisions for f in rev.files}
        if (
            any(n.endswith(".gguf") for n in names)
            or {"config.json", "model.safetensors"} <= names
            or any(n.endswith(".safetensors") for n in names)
        ):
            found.append((repo.repo_id, repo.size_on_disk / 1e9))
    return sorted(found)
