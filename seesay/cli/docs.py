"""``seesay docs``: the document library from the terminal, and ``bench docs``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from seesay.config import Settings


def add_commands(sub: Any, bench: Any, parents: list[argparse.ArgumentParser]) -> None:
    docs = sub.add_parser("docs", parents=parents, help="your document library: add folders, search them")
    dsub = docs.add_subparsers(dest="docs_command", metavar="ACTION", required=True)
    add = dsub.add_parser("add", parents=parents, help="add folders or files and index them now")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.set_defaults(func=_add)
    listing = dsub.add_parser("list", parents=parents, help="the library's folders (--files: each file)")
    listing.add_argument("--files", action="store_true", help="list every file, with any reading error")
    listing.set_defaults(func=_list)
    remove = dsub.add_parser(
        "remove", parents=parents, help="forget a folder (the files stay where they are)"
    )
    remove.add_argument("paths", nargs="+", metavar="PATH")
    remove.set_defaults(func=_remove)
    sync = dsub.add_parser("sync", parents=parents, help="re-read changed files, drop removed ones")
    sync.set_defaults(func=_sync)
    search = dsub.add_parser("search", parents=parents, help="the passages that best match a question")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    search.add_argument("--json", action="store_true", help="a JSON list of {path, score, text, page}")
    search.set_defaults(func=_search)

    b = bench.add_parser(
        "docs", parents=parents, help="retrieval quality (recall@5, MRR), indexing speed, latency"
    )
    b.add_argument("--chunks", type=int, default=10_000, help="passages in the latency test's index")
    b.set_defaults(func=_bench)


def _library() -> Any:
    from seesay.docs.library import Library
    from seesay.store import HistoryStore

    store = HistoryStore.open()
    if store.notice:
        print(store.notice, file=sys.stderr)
    return Library(store)


def _progress(p: Any) -> None:
    if sys.stderr.isatty():
        name = Path(p.path).name if p.path else "done"
        sys.stderr.write(f"\r\x1b[2K  {p.done}/{p.total} {name[:60]}")
        if not p.path:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _report(report: Any) -> int:
    parts = [f"{report.indexed} file(s) indexed ({report.passages} passages)"]
    if report.removed:
        parts.append(f"{report.removed} removed")
    if report.unchanged:
        parts.append(f"{report.unchanged} unchanged")
    print(", ".join(parts) + f" in {report.seconds:.1f} s")
    for path, reason in report.failed:
        print(f"  not read: {path}: {reason}", file=sys.stderr)
    return 0


def _add(args: argparse.Namespace, settings: Settings) -> int:
    library = _library()
    for path in args.paths:
        print(f"Added {library.add_folder(Path(path))}")
    return _report(library.sync(_progress))


def _sync(args: argparse.Namespace, settings: Settings) -> int:
    return _report(_library().sync(_progress))


def _remove(args: argparse.Namespace, settings: Settings) -> int:
    library = _library()
    for path in args.paths:
        library.remove_folder(Path(path))
        print(f"Removed {path} from the library")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    library = _library()
    folders = library.folders()
    if not folders:
        print("The library is empty; add a folder with `seesay docs add PATH`.")
        return 0
    for f in folders:
        missing = "  (missing)" if not f.exists else ""
        failed = f", {f.failed} unreadable" if f.failed else ""
        print(f"{f.path}  {f.documents} file(s), {f.passages} passages{failed}{missing}")
        if args.files:
            for path, count, error in library.documents(f.path):
                print(f"    {path}  " + (f"not read: {error}" if error else f"{count} passages"))
    return 0


def _search(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.errors import InputError

    if args.k < 1:
        raise InputError("-k must be at least 1.")
    hits = _library().search(args.query, args.k)
    if args.json:
        rows = [{"path": h.path, "score": h.score, "text": h.text, "page": h.page} for h in hits]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("Nothing in the library matches; add folders with `seesay docs add PATH`.")
    for n, h in enumerate(hits, 1):
        where = h.path + (f", page {h.page}" if h.page else "") + (f", {h.section}" if h.section else "")
        text = " ".join(h.text.split())
        print(f"[{n}] {where}  (score {h.score:.4f})\n    {text[:300]}{'…' if len(text) > 300 else ''}")
    return 0


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.docs.bench import run

    print(json.dumps(run(chunks=args.chunks), indent=2))
    return 0
