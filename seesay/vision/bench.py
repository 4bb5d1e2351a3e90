"""``seesay bench sketch``: the pipeline on the generated evaluation set, with numbers.

Reports per-stage timings, element precision/recall and label accuracy against the
ground truth, and a rendered-page similarity: the page built from the *detected*
layout and the page built from the *true* layout are both rendered by headless
Chromium, and the positions of their labelled blocks (relative to the page) are
compared. That measures what a user sees, not just what the detector returns. A
layout similarity compares the rendered page with the sketch itself (render, compare,
adjust: :mod:`seesay.vision.compare`), before and after the adjustment.
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from seesay.config import Settings
from seesay.vision import evalset, metrics
from seesay.vision import html as page_html
from seesay.vision.compare import chromium, fit, render_blocks
from seesay.vision.layout import Layout, Node
from seesay.vision.layout_tree import build_tree
from seesay.vision.sketch import analyse_image

log = logging.getLogger(__name__)


def page_similarity(a: dict[str, Any], b: dict[str, Any]) -> float:
    """1.0 when every labelled block of ``b`` sits where ``a`` has it (positions relative to page size)."""

    def keyed(r: dict[str, Any]) -> dict[tuple[str, str], tuple[float, float]]:
        out: dict[tuple[str, str], tuple[float, float]] = {}
        for blk in r["blocks"]:  # several images or paragraphs: key by occurrence too
            kind, text = blk["kind"], metrics.normalise(blk["text"])
            n = sum(1 for k in out if k[0] == kind and k[1].rsplit("#", 1)[0] == text)
            out[(kind, f"{text}#{n}")] = (
                (blk["x"] + blk["w"] / 2) / max(r["w"], 1),
                (blk["y"] + blk["h"] / 2) / max(r["h"], 1),
            )
        return out

    ka, kb = keyed(a), keyed(b)
    if not kb:
        return 0.0
    scores = []
    for key, (x, y) in kb.items():
        if key not in ka:
            scores.append(0.0)
            continue
        ax, ay = ka[key]
        scores.append(max(0.0, 1.0 - ((ax - x) ** 2 + (ay - y) ** 2) ** 0.5 / 0.25))
    return sum(scores) / len(scores)


def truth_layout(sample: evalset.Sample) -> Layout:
    nodes = [Node(e["type"], list(e["bbox"]), e.get("text", "")) for e in sample.elements + sample.containers]
    return Layout(
        build_tree(nodes, (0, 0, sample.image.width, sample.image.height)),
        sample.image.width,
        sample.image.height,
    )


def bench_sketch(settings: Settings, count: int = 12, render: bool = True, keep: Path | None = None) -> dict:
    per_image: list[dict[str, Any]] = []
    can_render = render and chromium() is not None
    for i in range(count):
        sample = evalset.sample(i)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{sample.id}.{sample.suffix}"
            sample.image.save(path)
            t = time.perf_counter()
            layout = analyse_image(
                path, max_pixels=settings.vision.max_image_pixels, max_side=settings.vision.max_side
            )
            t_render = time.perf_counter()
            page = page_html.render_page(layout)
            timings = {
                **layout.timings,
                "render": time.perf_counter() - t_render,
                "total": time.perf_counter() - t,
            }
            if keep:
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, keep / path.name)
                (keep / f"{sample.id}.truth.json").write_text(json.dumps(sample.truth(), indent=1))
                (keep / f"{sample.id}.layout.json").write_text(json.dumps(layout.to_dict(), indent=1))
                (keep / f"{sample.id}.html").write_text(page)
        score = metrics.score(layout.to_dict()["elements"], sample.elements)
        row: dict[str, Any] = {
            "id": sample.id,
            "timings": {k: round(v, 3) for k, v in timings.items()},
            **{k: round(v, 3) if isinstance(v, float) else v for k, v in score.items()},
        }
        if can_render:
            t = time.perf_counter()
            try:
                fitted = fit(layout)
                want = render_blocks(page_html.render_page(truth_layout(sample)))
                row["page_similarity"] = round(page_similarity(fitted.first_blocks, want), 3)
                row["layout_similarity_first"] = round(fitted.first, 3)
                row["layout_similarity"] = round(fitted.score, 3)
            except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
                log.warning("rendering %s failed: %s", sample.id, e)
            row["timings"]["chromium_compare"] = round(time.perf_counter() - t, 3)
        per_image.append(row)

    def mean(key: str) -> float | None:
        vals = [r[key] for r in per_image if key in r]
        return round(statistics.fmean(vals), 3) if vals else None

    stages = sorted({k for r in per_image for k in r["timings"]})
    return {
        "images": count,
        "metrics": {
            k: mean(k)
            for k in (
                "precision",
                "recall",
                "located_precision",
                "located_recall",
                "label_accuracy",
                "label_similarity",
                "page_similarity",
                "layout_similarity_first",
                "layout_similarity",
            )
        },
        "timings_mean_s": {
            s: round(statistics.fmean(r["timings"].get(s, 0.0) for r in per_image), 3) for s in stages
        },
        "timings_max_total_s": round(max(r["timings"]["total"] for r in per_image), 3),
        "targets": {"recall": 0.85, "label_accuracy": 0.8, "seconds_per_image": 3.0},
        "per_image": per_image,
    }
