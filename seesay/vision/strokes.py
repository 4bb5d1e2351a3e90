"""Strokes: the ink's connected components sorted into boxes, circles, lines and controls.

Pen strokes rarely meet exactly at corners and paper photographs are noisy, so every test
here allows for hand drawing: gaps are closed before an outline is judged, a control must
stand apart from its neighbours (a letter O touches the next letter), and sizes are
measured in handwriting heights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from seesay.vision.layout import Box


@dataclass
class Shape:
    kind: str  # rect, circle, hline, control_rect, control_circle, other
    box: Box
    label: int  # component id in the label image
    fill: float = 0.0
    used: bool = False
    points_down: bool = False  # wider at the top than at the bottom (a drop-down arrow)


def glyph_height(stats: np.ndarray) -> float:
    """Typical height of a written character, from the small components (before OCR)."""
    hs = [h for _, _, w, h, a in stats[1:] if 8 <= h <= 90 and w <= 2.5 * h and a >= 15]
    return float(np.median(hs)) if hs else 24.0


def find_shapes(ink: np.ndarray) -> tuple[list[Shape], np.ndarray, float]:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    gh = glyph_height(stats)
    shapes: list[Shape] = []
    hgt, wid = ink.shape
    edge = max(4, int(0.012 * min(hgt, wid)))
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if max(w, h) < 0.5 * gh or area < 12:
            continue
        if w >= 3 * gh and h <= 0.8 * gh:
            # A flat stroke hugging the top or bottom border is the paper's edge left over
            # from a photo's perspective correction, not a drawn line.
            if y > edge and y + h < hgt - edge:
                shapes.append(Shape("hline", (x, y, w, h), i))
            continue
        crop = (labels[y : y + h, x : x + w] == i).astype(np.uint8)
        contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        # Pen strokes rarely meet exactly at corners: close small gaps before judging the outline.
        k = max(3, int(0.4 * gh)) | 1
        closed = cv2.morphologyEx(np.pad(crop, k), cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
        contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        fill = cv2.contourArea(max(contours, key=cv2.contourArea)) / float(w * h) if contours else 0.0
        hollow = fill * w * h - area > 0.2 * w * h
        aspect = w / h
        big = min(w, h) >= 2.8 * gh or max(w, h) >= 6 * gh
        square = _corners_inked(closed[k:-k, k:-k])
        if fill >= 0.75 and hollow and big and (square or not 0.75 < aspect < 1.33):
            kind = "rect"
        elif 0.6 <= fill < 0.9 and hollow and 0.75 < aspect < 1.33 and big:
            kind = "circle"
        elif hollow and 1.1 * gh <= max(w, h) <= 2.8 * gh and 0.7 < aspect < 1.4 and fill >= 0.6:
            kind = "control_rect" if square else "control_circle"
        else:
            kind = "other"
        third = max(1, h // 3)
        top, bottom = crop[:third].any(axis=0).sum(), crop[-third:].any(axis=0).sum()
        shapes.append(Shape(kind, (x, y, w, h), i, fill, points_down=bool(top > 1.6 * max(bottom, 1))))
    _keep_isolated_controls(shapes, gh)
    return shapes, labels, gh


def _corners_inked(crop: np.ndarray) -> bool:
    """A square has ink in (at least three of) its bounding-box corners, a circle in none."""
    h, w = crop.shape
    cy = cx = max(2, min(h, w) // 8)
    corners = [crop[:cy, :cx], crop[:cy, -cx:], crop[-cy:, :cx], crop[-cy:, -cx:]]
    return sum(int(c.any()) for c in corners) >= 3


def _keep_isolated_controls(shapes: list[Shape], gh: float) -> None:
    """A letter O or D looks like a radio button or checkbox; a control stands apart from
    its neighbours (a word-space or more), a letter touches the next one."""
    small = [s for s in shapes if s.kind in ("other", "control_rect", "control_circle")]
    for s in shapes:
        if not s.kind.startswith("control"):
            continue
        x, y, w, h = s.box
        for o in small:
            ox, oy, ow, oh = o.box
            if o is s or inside(o.box, s.box, tol=2) or oh < 0.4 * h or not y <= oy + oh / 2 <= y + h:
                continue  # a tick inside a checkbox, or noise, is not a neighbouring letter
            gap = ox - (x + w) if ox >= x + w else x - (ox + ow) if ox + ow <= x else -1
            if gap < 0.3 * gh:
                s.kind = "other"
                break


def inside(inner: Sequence[float], outer: Sequence[float], tol: float = 4) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return x >= ox - tol and y >= oy - tol and x + w <= ox + ow + tol and y + h <= oy + oh + tol


def has_x(ink: np.ndarray, box: Box) -> bool:
    """Both diagonals of the box are inked: the wireframe sign for an image."""
    x, y, w, h = (int(v) for v in box)
    thick = cv2.dilate(ink[y : y + h, x : x + w], np.ones((7, 7), np.uint8))
    ts = np.linspace(0.15, 0.85, 40)
    hits = []
    for (ax, ay), (bx, by) in (((0, 0), (w - 1, h - 1)), ((w - 1, 0), (0, h - 1))):
        px = (ax + (bx - ax) * ts).astype(int)
        py = (ay + (by - ay) * ts).astype(int)
        hits.append(float((thick[py, px] > 0).mean()))
    return min(hits) >= 0.7


def arrow(shapes: list[Shape], box: Box, gh: float) -> Shape | None:
    """A small mark alone in the right end of a box: the drop-down arrow of a select.

    Alone matters: the last letter of a button's label also sits at the right end."""
    x, y, w, h = box
    marks = [s for s in shapes if s.kind == "other" and inside(s.box, box)]
    for s in marks:
        sx, sy, sw, sh = s.box
        if (
            sx >= x + w - 1.2 * h
            and sy >= y - 2
            and sy + sh <= y + h + 2
            and 0.15 * h <= max(sw, sh) <= 0.75 * h
            and sw >= 0.8 * sh
            and s.points_down
            and not any(o is not s and o.box[0] + o.box[2] > sx - gh for o in marks)
        ):
            return s
    return None
