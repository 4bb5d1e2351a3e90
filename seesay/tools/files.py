"""The user's granted folders: list, read and search inside them, write only with approval.

A path the model gives is resolved (``..`` and symlinks followed) before it is checked, so a
link inside a granted folder that points at ``~/.ssh`` is outside, and refused. Everything a
file says is untrusted: someone other than the user may have written it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from seesay.tools.base import Tool, ToolError, ToolResult

MAX_READ_BYTES = 1_000_000
MAX_LISTED = 200
MAX_HITS = 50
MAX_SCANNED = 5_000
SKIPPED_DIRS = {".git", "node_modules", "__pycache__", ".venv", ".cache"}


class Folders:
    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = [Path(r).expanduser().resolve() for r in roots]

    def describe(self) -> str:
        return ", ".join(str(r) for r in self.roots) or "none"

    def resolve(self, given: str) -> Path:
        """The real path of ``given`` when it lies inside a granted folder; else a ToolError."""
        if not self.roots:
            raise ToolError("No folders are granted; add one in Settings → Tools.")
        text = (given or "").strip()
        raw = Path(text).expanduser()
        candidates = [raw] if raw.is_absolute() else [root / raw for root in self.roots]
        inside = []
        for candidate in candidates:
            real = candidate.resolve()
            if any(real == root or real.is_relative_to(root) for root in self.roots):
                if real.exists():
                    return real
                inside.append(real)
        if inside:  # a file to be written
            return inside[0]
        raise ToolError(f"{text or '(empty path)'} is outside the granted folders ({self.describe()}).")

    def walk(self, start: Path) -> Iterator[Path]:
        """Files under ``start`` (links that leave the granted folders are not followed)."""
        seen = 0
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                real = path.resolve()
                if not any(real.is_relative_to(root) for root in self.roots):
                    continue
                seen += 1
                if seen > MAX_SCANNED:
                    return
                yield path


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise ToolError(f"{path} is not a file.")
    size = path.stat().st_size
    with path.open("rb") as f:
        data = f.read(MAX_READ_BYTES)
    if b"\0" in data[:8192]:
        raise ToolError(f"{path.name} is a binary file, not text.")
    text = data.decode("utf-8", errors="replace")
    if size > MAX_READ_BYTES:
        text += f"\n… (the file has {size:,} bytes; the first {MAX_READ_BYTES:,} are shown)"
    return text


def file_tools(folders: Folders) -> list[Tool]:
    def list_files(args: dict[str, Any]) -> ToolResult:
        start = folders.resolve(str(args.get("folder") or "")) if args.get("folder") else None
        roots = [start] if start else folders.roots
        lines = []
        for root in roots:
            for path in folders.walk(root):
                lines.append(str(path))
                if len(lines) >= MAX_LISTED:
                    lines.append(f"… (more than {MAX_LISTED} files)")
                    break
        return ToolResult("\n".join(lines) or "(no files)", untrusted=True, source="file names")

    def read_file(args: dict[str, Any]) -> ToolResult:
        path = folders.resolve(str(args.get("path", "")))
        return ToolResult(_read_text(path), untrusted=True, source=f"file {path.name}")

    def search_files(args: dict[str, Any]) -> ToolResult:
        query = str(args.get("query", "")).strip().lower()
        if not query:
            raise ToolError("Give a word or phrase to search for.")
        hits: list[str] = []
        for root in folders.roots:
            for path in folders.walk(root):
                if query in path.name.lower():
                    hits.append(f"{path}: (name matches)")
                else:
                    line = _matching_line(path, query)
                    if line is not None:
                        hits.append(f"{path}: {line}")
                if len(hits) >= MAX_HITS:
                    break
        return ToolResult(
            "\n".join(hits) or f"No file mentions {query!r}.", untrusted=True, source="file search"
        )

    def write_file(args: dict[str, Any]) -> ToolResult:
        path = folders.resolve(str(args.get("path", "")))
        content = str(args.get("content", ""))
        if path.is_dir():
            raise ToolError(f"{path} is a folder.")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        return ToolResult(
            f"Wrote {len(content):,} characters to {path}.", untrusted=False, source="write_file"
        )

    path_arg = {"type": "string", "description": "A file path, relative to a granted folder or absolute."}
    return [
        Tool(
            "list_files",
            "List the files in the user's granted folders (or in one folder inside them).",
            {"type": "object", "properties": {"folder": {"type": "string"}}},
            list_files,
        ),
        Tool(
            "read_file",
            "Read a text file from the user's granted folders.",
            {"type": "object", "properties": {"path": path_arg}, "required": ["path"]},
            read_file,
        ),
        Tool(
            "search_files",
            "Search the user's granted folders for files whose name or text contains a word or phrase.",
            {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
            search_files,
        ),
        Tool(
            "write_file",
            "Write a text file in the user's granted folders (asks the user first).",
            {
                "type": "object",
                "properties": {"path": path_arg, "content": {"type": "string"}},
                "required": ["path", "content"],
            },
            write_file,
            side_effects=True,
        ),
    ]


def _matching_line(path: Path, query: str) -> str | None:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_READ_BYTES)
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    for line in data.decode("utf-8", errors="replace").splitlines():
        if query in line.lower():
            line = line.strip()
            return line if len(line) <= 200 else line[:199] + "…"
    return None
