"""Hand rules: strokes and readings to typed elements by geometry and context.

They name what the labelled sketches do not (navbar, footer, card, icon) and give the
element model (:mod:`seesay.vision.elements`) one feature of every candidate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seesay.vision.layout import Box, Node
from seesay.vision.ocr import Reading
from seesay.vision.strokes import Shape, inside


def _node(kind: str, box: Box, text: str = "", **meta: Any) -> Node:
    return Node(kind, [round(v) for v in box], text, meta=meta)


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


def _text_right_of(box: Box, texts: list[Reading], gh: float) -> Reading | None:
    x, y, w, h = box
    best = None
    for t in texts:
        tx, ty, _tw, th = t.box
        cy = ty + th / 2
        if (
            t.used
            or not (x + w - 2 <= tx <= x + w + 2.6 * gh)
            or not (y - 0.6 * gh <= cy <= y + h + 0.6 * gh)
        ):
            continue
        if best is None or tx < best.box[0]:
            best = t
    return best


def classify(shapes: list[Shape], texts: list[Reading], gh: float, wid: int, hgt: int) -> list[Node]:
    """Turn strokes and readings into leaf nodes and (empty) containers."""
    nodes: list[Node] = []
    heights = [t.box[3] for t in texts]
    text_h = float(np.median(heights)) if heights else gh
    # Controls take the text to their right as their label.
    for s in shapes:
        if s.kind in ("control_rect", "control_circle"):
            label = _text_right_of(s.box, texts, gh)
            if label is not None:
                label.used = True
                kind = "checkbox" if s.kind == "control_rect" else "radio"
                nodes.append(_node(kind, _union(s.box, label.box), label.text))
            else:
                nodes.append(_node("icon" if s.kind == "control_circle" else "checkbox", s.box))
        elif s.kind == "circle":
            nodes.append(_node("image" if s.box[2] > 4 * gh else "icon", s.box, shape="circle"))
    # Boxes, smallest first so a text belongs to the innermost box.
    for r in sorted(
        (s for s in shapes if s.kind in ("rect", "image", "select")), key=lambda s: s.box[2] * s.box[3]
    ):
        _x, y, w, h = r.box
        inner = [t for t in texts if not t.used and inside(t.box, r.box)]
        if r.kind == "image":
            for t in inner:  # writing inside a crossed box is a caption of the picture
                t.used = True
            nodes.append(_node("image", r.box, " ".join(t.text for t in inner)))
            continue
        if r.kind == "select":
            for t in inner:
                t.used = True
            nodes.append(
                _node("select", r.box, " ".join(t.text for t in sorted(inner, key=lambda t: t.box[0])))
            )
            continue
        has_children = any(
            s is not r
            and s.kind in ("rect", "image", "select", "circle", "hline", "control_rect", "control_circle")
            and inside(s.box, r.box)
            for s in shapes
        )
        top, bottom = y < 0.2 * hgt, y + h > 0.8 * hgt
        wide_band = w > 0.6 * wid and h < 0.22 * hgt
        if wide_band and (top or bottom):
            nodes.append(_node("navbar" if top and not bottom else "footer", r.box))
            continue
        rows = _text_rows(inner)
        if has_children or len(rows) > 1 or (not inner and h > 5.5 * gh) or h > 6 * text_h:
            nodes.append(_node("card", r.box))
            continue
        for t in inner:
            t.used = True
        text = " ".join(t.text for t in sorted(inner, key=lambda t: t.box[0]))
        if inner and _looks_like_button(r.box, [t.box for t in inner]):
            nodes.append(_node("button", r.box, text))
        else:
            nodes.append(_node("text_input", r.box, text))
    # Lines: underlines make links; stacks of lines are paragraphs.
    lines = sorted((s for s in shapes if s.kind == "hline"), key=lambda s: (s.box[1], s.box[0]))
    for ln in lines:
        lx, ly, lw, _lh = ln.box
        for t in texts:
            tx, ty, tw, th = t.box
            overlap = min(tx + tw, lx + lw) - max(tx, lx)
            if (
                not t.used
                and -4 <= ly - (ty + th) <= 0.8 * gh + 6
                and overlap >= 0.6 * tw
                and lw <= 1.6 * tw + 2 * gh
            ):
                t.used = True
                ln.used = True
                nodes.append(_node("link", t.box, t.text, underlined=True))
                break
    groups: list[list[Shape]] = []
    for ln in (line for line in lines if not line.used):
        for g in groups:
            last = g[-1]
            overlap = min(last.box[0] + last.box[2], ln.box[0] + ln.box[2]) - max(last.box[0], ln.box[0])
            if 0 <= ln.box[1] - (last.box[1] + last.box[3]) <= 2.2 * gh and overlap >= 0.4 * min(
                last.box[2], ln.box[2]
            ):
                g.append(ln)
                break
        else:
            groups.append([ln])
    for g in groups:
        box = g[0].box
        for ln in g[1:]:
            box = _union(box, ln.box)
        if len(g) == 1 and box[2] > 0.55 * wid:
            nodes.append(_node("divider", box))
        else:
            nodes.append(_node("paragraph", box, lines=len(g)))
    # Remaining writing.
    for t in texts:
        if t.used:
            continue
        kind = "heading" if t.box[3] >= 1.4 * text_h else "label"
        nodes.append(_node(kind, t.box, t.text))
    navbar_links(nodes)
    return nodes


def _looks_like_button(box: Box, texts: list[Box]) -> bool:
    """Buttons centre a label that fills much of them; inputs put a placeholder at the left."""
    x, _y, w, h = box
    x0 = min(t[0] for t in texts)
    x1 = max(t[0] + t[2] for t in texts)
    left, right = x0 - x, x + w - x1
    fill = (x1 - x0) / w
    centred = abs(left - right) <= 0.45 * max(left + right, 1)
    return fill >= 0.6 or (centred and w < 7 * h)


def _text_rows(texts: list[Reading]) -> list[list[Reading]]:
    rows: list[list[Reading]] = []
    for t in sorted(texts, key=lambda t: t.box[1]):
        if rows and t.box[1] < rows[-1][0].box[1] + 0.6 * rows[-1][0].box[3]:
            rows[-1].append(t)
        else:
            rows.append([t])
    return rows


def navbar_links(nodes: list[Node], tol: float = 4) -> None:
    """Writing in a navbar is its links; footer texts stay labels unless underlined."""
    for c in nodes:
        if c.type != "navbar":
            continue
        for n in nodes:
            if n.type == "label" and inside(n.bbox, c.bbox, tol):
                n.type = "link"
