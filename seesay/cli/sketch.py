"""CLI commands over the vision core: ``sketch`` and ``bench sketch``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from seesay.config import Settings
from seesay.errors import InputError


def add_commands(sub: Any, bench: Any, parents: list[argparse.ArgumentParser]) -> None:
    sketch = sub.add_parser("sketch", parents=parents, help="turn a wireframe sketch into an HTML page")
    sketch.add_argument("image", type=Path, help="photo, scan or screenshot of the sketch")
    sketch.add_argument("-o", "--output", type=Path, help="where to write the page (default: stdout)")
    sketch.add_argument("--layout", type=Path, metavar="FILE", help="also write the layout JSON here")
    sketch.add_argument("--instruction", metavar="TEXT", help='a revision, e.g. "make the header dark blue"')
    sketch.add_argument("--refine", action="store_true", help="let the chat model polish copy and colours")
    sketch.add_argument(
        "--vlm",
        metavar="MODEL",
        help="draw the page with this vision-language model "
        "(a local folder or cached Hugging Face id; sets vision.vlm_model)",
    )
    sketch.add_argument(
        "--fit",
        action="store_true",
        help="lay the page out in headless Chromium, compare it with the drawing and adjust its "
        "proportions until closest",
    )
    sketch.set_defaults(func=_sketch)

    b = bench.add_parser(
        "sketch",
        parents=parents,
        help="sketch pipeline on the generated evaluation set (or labelled photographs): "
        "timings, precision/recall",
    )
    b.add_argument("--count", type=int, default=None, help="how many sketches (generated: 12 by default)")
    b.add_argument(
        "--real",
        type=Path,
        metavar="DIR",
        help="score labelled photographs instead: a folder with annotations.json and images/",
    )
    b.add_argument(
        "--folds",
        type=int,
        default=5,
        metavar="K",
        help="with --real: read each sketch with an element model trained on the other folds "
        "(0: the shipped model)",
    )
    b.add_argument("--no-render", action="store_true", help="skip the headless Chromium page comparison")
    b.add_argument("--keep", type=Path, metavar="DIR", help="keep images, truth, layouts and pages here")
    b.set_defaults(func=_bench_sketch)


def _settings(args: argparse.Namespace, settings: Settings) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "refine", False):
        overrides["vision.refine_with_llm"] = True
    if getattr(args, "vlm", None):
        overrides["vision.vlm_model"] = args.vlm
    return settings.replace(overrides, source="command line") if overrides else settings


def _sketch(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.vision.pipeline import sketch_to_page

    settings = _settings(args, settings)
    if not args.image.exists():
        raise InputError(f"{args.image} does not exist.")
    # Checked before the sketch is read, so a typo does not cost a whole run.
    for path, what, example in ((args.output, "page", "page.html"), (args.layout, "layout", "layout.json")):
        if path:
            _check_output(path, what, example, image=args.image)
    if args.output and args.layout and _same_file(args.output, args.layout):
        raise InputError(f"-o and --layout both name {args.output}; give them different files.")
    if args.fit:
        from seesay.vision.compare import chromium

        if args.instruction or settings.vision.refine_with_llm or settings.vision.vlm_model.strip():
            raise InputError(
                "--fit adjusts the page drawn from the layout; leave out --instruction, --refine and --vlm."
            )
        if chromium() is None:
            raise InputError(
                "--fit needs Chromium to lay the page out; install it (apt-get install chromium)."
            )
    engine = None
    if settings.vision.refine_with_llm:
        from seesay.inference import create_engine

        engine = create_engine(settings)
    progress = (lambda msg: print(msg, file=sys.stderr)) if args.verbose else None
    result = sketch_to_page(
        args.image, settings, engine=engine, instruction=args.instruction, progress=progress
    )
    if args.fit and result.source == "layout":
        from seesay.vision.compare import fit

        fitted = fit(result.layout)
        result.html = fitted.page
        print(
            f"Layout similarity {fitted.first:.3f} as first laid out, {fitted.score:.3f} kept.",
            file=sys.stderr,
        )
    if args.layout:
        _write(args.layout, json.dumps(result.layout.to_dict(), indent=2), "layout")
    if args.output:
        from seesay.vision.safety import for_saving

        _write(args.output, for_saving(result.html), "page")
        found = len(result.layout.elements)
        print(f"Wrote {args.output} ({found} elements; {result.source}).", file=sys.stderr)
    else:
        sys.stdout.write(result.html)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:  # a symlink loop: resolving fails, and writing would fail later with a message
        return False


def _check_output(path: Path, what: str, example: str, *, image: Path) -> None:
    """Fail early, in words, on an output path that cannot be written."""
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name for the {what}, e.g. {path / example}.")
    parent = path.parent
    if not parent.is_dir():
        why = f"{parent} is not a folder" if parent.exists() else f"the folder {parent} does not exist"
        raise InputError(f"Cannot write the {what} to {path}: {why}.")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"Cannot write the {what} to {path}: permission denied.")
    if _same_file(path, image):
        raise InputError(f"Writing the {what} to {path} would overwrite the sketch; choose another file.")


def _write(path: Path, text: str, what: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:  # the disk filled up, or the path changed since it was checked
        raise InputError(f"Cannot write the {what} to {path}: {e.strerror or e}.") from None


def _bench_sketch(args: argparse.Namespace, settings: Settings) -> int:
    if args.count is not None and args.count < 1:
        raise InputError(f"--count must be at least 1, got {args.count}.")
    if args.real is not None:
        from seesay.vision.realset import bench_real

        print(json.dumps(bench_real(settings, args.real, count=args.count, folds=args.folds), indent=2))
        return 0
    from seesay.vision.bench import bench_sketch

    report = bench_sketch(settings, count=args.count or 12, render=not args.no_render, keep=args.keep)
    print(json.dumps(report, indent=2))
    return 0
