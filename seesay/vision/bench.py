"""``seesay bench sketch``: the pipeline on the generated evaluation set, with numbers.

Reports per-stage timings, element precision/recall and label accuracy against the
ground truth, and a rendered-page similarity: the page built from the *detected*
layout and the page built from the *true* layout are both rendered by headless
Chromium, and the positions of their labelled blocks (relative to the page) are
compared. That measures what a user sees, not just what the detector returns. A
layout similarity compares the rendered page with the sketch itself: the element boxes
Chromium lays out against the boxes the reader found, each in its own content area.

The pages are generated, so Chromium gets them the way any untrusted page is shown:
sealed (CSP first in the real head, WebRTC removed) and with no route to the network
(see :mod:`seesay.vision.safety`); its own sandbox is left on unless running as root,
where Chromium refuses to start with it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from seesay.config import Settings
from seesay.vision import evalset, metrics, safety
from seesay.vision import html as page_html
from seesay.vision.layout import Layout, Node
from seesay.vision.layout_tree import build_tree
from seesay.vision.sketch import analyse_image

log = logging.getLogger(__name__)

CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
_PROBE = """<script>window.addEventListener('load', () => {
  const out = [...document.querySelectorAll('[data-kind]')].map(e => {
    const r = e.getBoundingClientRect();
    return {kind: e.dataset.kind, text: e.innerText || e.placeholder || '',
            x: r.x, y: r.y, w: r.width, h: r.height};
  });
  const pre = document.createElement('pre'); pre.id = 'seesay-probe';
  pre.textContent = JSON.stringify({w: document.documentElement.scrollWidth,
                                    h: document.documentElement.scrollHeight, blocks: out});
  document.body.appendChild(pre);
});</script>"""


def chromium() -> str | None:
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_switches(profile: Path, width: int, height: int) -> list[str]:
    """Headless Chromium for an untrusted page: no network (proxy to nowhere, no name lookups,
    no background traffic), no WebRTC transports, a throwaway profile."""
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    return [
        "--headless",
        *(["--no-sandbox"] if root else []),
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--dns-prefetch-disable",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        *safety.CHROMIUM_ISOLATION_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        "--virtual-time-budget=2000",
        "--dump-dom",
    ]


def render_blocks(page: str, width: int = 1200, height: int = 900, timeout: float = 60) -> dict[str, Any]:
    """Positions of the page's ``data-kind`` blocks as laid out by headless Chromium."""
    exe = chromium()
    if exe is None:
        raise RuntimeError("Chromium not found")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.html"
        path.write_text(safety.sealed(page.replace("</body>", _PROBE + "</body>")), encoding="utf-8")
        proc = subprocess.run(
            [exe, *chromium_switches(Path(tmp) / "profile", width, height), path.as_uri()],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    start = proc.stdout.find('<pre id="seesay-probe">')
    if start < 0:
        raise RuntimeError(f"Chromium produced no layout: {proc.stderr[-300:]}")
    import html as _h

    body = proc.stdout[start + len('<pre id="seesay-probe">') : proc.stdout.find("</pre>", start)]
    return json.loads(_h.unescape(body))


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


# Kinds that render interchangeably: a navbar's brand and items are drawn as labels or a
# heading but become links, so they are compared as one kind of short text.
_KIND_GROUP = {"heading": "text", "label": "text", "link": "text"}


def _unit_boxes(boxes: list[tuple[str, list[float]]]) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Boxes as fractions of their own bounding box: a photo's margins and a window's width
    both drop out, leaving only where the elements sit relative to each other."""
    boxes = [(k, b) for k, b in boxes if b[2] > 0 and b[3] > 0]
    if not boxes:
        return []
    x0 = min(b[0] for _, b in boxes)
    y0 = min(b[1] for _, b in boxes)
    x1 = max(b[0] + b[2] for _, b in boxes)
    y1 = max(b[1] + b[3] for _, b in boxes)
    sw, sh = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    return [
        (_KIND_GROUP.get(k, k), ((b[0] - x0) / sw, (b[1] - y0) / sh, b[2] / sw, b[3] / sh)) for k, b in boxes
    ]


def layout_similarity(layout: Layout, blocks: dict[str, Any]) -> float:
    """How closely a rendered page keeps the sketch's layout: mean IoU of matched elements.

    In the spirit of Sketch2Code's layout similarity: the layout's element boxes are
    normalised to the sketch's drawn content area (the bounding box of its elements, not
    the photo, which has margins) and the rendered ``data-kind`` boxes to the rendered
    content area; elements of the same kind are paired by the assignment that maximises
    total IoU, and the sum is divided by the larger of the two counts, so a missing or an
    invented element costs as much as a misplaced one.
    """
    from scipy.optimize import linear_sum_assignment

    drawn = _unit_boxes([(e.type, [float(v) for v in e.bbox]) for e in layout.elements])
    shown = _unit_boxes([(b["kind"], [b["x"], b["y"], b["w"], b["h"]]) for b in blocks.get("blocks", [])])
    if not drawn or not shown:
        return 0.0
    total = 0.0
    for kind in {k for k, _ in drawn} & {k for k, _ in shown}:
        a = [b for k, b in drawn if k == kind]
        b = [b for k, b in shown if k == kind]
        cost = [[-metrics.iou(x, y) for y in b] for x in a]
        rows, cols = linear_sum_assignment(cost)
        total += sum(-cost[r][c] for r, c in zip(rows, cols, strict=True))
    return total / max(len(drawn), len(shown))


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
        suffix = "jpg" if sample.style == "photo" else "png"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{sample.id}.{suffix}"
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
                got = render_blocks(page)
                want = render_blocks(page_html.render_page(truth_layout(sample)))
                row["page_similarity"] = round(page_similarity(got, want), 3)
                row["layout_similarity"] = round(layout_similarity(layout, got), 3)
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
