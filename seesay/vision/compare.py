"""Render and compare: a page laid out by a real browser, read back, and held against the drawing.

Headless Chromium lays the page out; a probe script reads back the box of every element
(``data-kind``). :func:`layout_similarity` scores how closely those boxes keep the
sketch's own (in the spirit of Sketch2Code's layout similarity), and :func:`fit` closes
the loop: it adjusts the page's vertical proportions (:class:`~seesay.vision.html.Proportions`)
from what the browser measured, renders again, and keeps the page that scores best.

The pages come from drawings, so Chromium gets them the way any untrusted page is shown:
sealed (CSP first in the real head, WebRTC removed) and with no route to the network (see
:mod:`seesay.vision.safety`); its own sandbox is left on unless running as root, where
Chromium refuses to start with it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seesay.vision import html as page_html
from seesay.vision import metrics, safety
from seesay.vision.layout import Layout

log = logging.getLogger(__name__)

CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
FIT_ROUNDS = 3  # renders at most; each is about a second of Chromium


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


# Kinds that render interchangeably: a navbar's brand and items are drawn as labels or a
# heading but become links, so they are compared as one kind of short text.
_KIND_GROUP = {"heading": "text", "label": "text", "link": "text"}


def _unit_boxes(boxes: list[tuple[str, list[float]]]) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Boxes as fractions of their own bounding box: a photo's margins and a window's width
    both drop out, leaving only where the elements sit relative to each other."""
    boxes = [(k, b) for k, b in boxes if b[2] > 0 and b[3] > 0]
    around = metrics.extent([b for _, b in boxes])
    if around is None:
        return []
    x0, y0 = around[0], around[1]
    sw, sh = max(around[2], 1e-9), max(around[3], 1e-9)
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


@dataclass
class Fitted:
    """The page render-and-compare kept, its layout similarity, and each try's."""

    page: str
    score: float
    first: float  # the page as first rendered
    first_blocks: dict[str, Any]  # what the browser laid out for it
    proportions: page_html.Proportions
    tries: list[tuple[page_html.Proportions, float]] = field(default_factory=list)


def fit(
    layout: Layout,
    *,
    theme: dict[str, str] | None = None,
    render: Callable[[str], dict[str, Any]] | None = None,
    rounds: int = FIT_ROUNDS,
) -> Fitted:
    """Render, compare with the drawing, adjust, render again; keep the best page.

    The first page has the drawn gaps and natural element heights; the next keeps the drawn
    heights too; after that the browser's measurements steer (:func:`_adjusted`). Each try
    is scored by :func:`layout_similarity`; one that does not improve on the best, or that
    would repeat an earlier try, ends the loop. Raises ``RuntimeError`` without Chromium.
    """
    render = render or render_blocks
    props = page_html.Proportions()
    page = page_html.render_page(layout, theme=theme, proportions=props)
    blocks = render(page)
    score = layout_similarity(layout, blocks)
    best = Fitted(page, score, score, blocks, props, [(props, score)])
    for _ in range(rounds - 1):
        props = _adjusted(layout, blocks, props)
        if props in {p for p, _ in best.tries}:
            break
        page = page_html.render_page(layout, theme=theme, proportions=props)
        blocks = render(page)
        score = layout_similarity(layout, blocks)
        best.tries.append((props, score))
        if score <= best.score:
            break
        best.page, best.score, best.proportions = page, score, props
    log.debug("fit: %s", best.tries)
    return best


def _adjusted(layout: Layout, blocks: dict[str, Any], props: page_html.Proportions) -> page_html.Proportions:
    """The next proportions to try. First the drawing's own: its gaps, and its heights kept as
    minimums. Then, while the browser's page is still taller for its width than the drawing
    (text and controls that need more room than drawn), gaps and kept heights shrink by the
    excess so the page as a whole keeps the drawn proportions."""
    if props.heights == 0:
        return page_html.Proportions(gaps=props.gaps, heights=1.0)
    drawn = metrics.extent([[float(v) for v in e.bbox] for e in layout.elements])
    shown = metrics.extent([[b["x"], b["y"], b["w"], b["h"]] for b in blocks.get("blocks", [])])
    if drawn is None or shown is None:
        return props
    excess = (shown[3] / shown[2]) / (drawn[3] / drawn[2])
    if excess <= 1.02:
        return props
    shrink = 1 / min(3.0, excess)
    return page_html.Proportions(gaps=round(props.gaps * shrink, 2), heights=round(props.heights * shrink, 2))
