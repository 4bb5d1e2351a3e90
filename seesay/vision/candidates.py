"""Candidate element boxes on a sketch, and the numbers the element model judges each by.

People draw an element as a group of strokes: letters make a word, words a label, a box and
its caption a checkbox, stacked lines a paragraph. Rather than decide the grouping by rule,
every plausible grouping is proposed: the ink's connected components merged by growing them
at several horizontal and vertical reaches (multiples of the handwriting's height), each also
widened by two margins because people label an element with some paper around it. Lines of
writing are also proposed widened to their row (people mark a heading as the whole band it
heads), and the hand rules' own elements are proposed too. About a thousand candidates per
sketch, of which the model (:mod:`seesay.vision.elements`) keeps the ones that are elements,
with their type.

Features describe a candidate by its size and place (relative to the page and to the
handwriting), where its ink lies (border, interior, left and right quarters, around it), the
OCR readings inside it (how many, how tall relative to the page's writing, margins), the
shapes the stroke finder saw inside or matching it, its first and last marks (a checkbox
starts with a small hollow box, a select ends with an arrow), and what the hand rules made of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from seesay.vision.sketch import Observation

# The element types the model predicts: the vocabulary of the labelled sketches. "none" first.
CLASSES = (
    "none",
    "label",
    "heading",
    "checkbox",
    "image",
    "button",
    "paragraph",
    "text_input",
    "radio",
    "select",
    "link",
    "icon",  # not in the labelled photographs, which call a drawn icon nothing; the generated ones have them
)
# Reaches (x, y) in handwriting heights at which components are grouped.
REACHES = (
    (0.4, 0.15),
    (0.8, 0.2),
    (1.3, 0.3),
    (2.0, 0.3),
    (3.0, 0.4),
    (0.6, 0.6),
    (1.0, 1.0),
    (1.6, 1.2),
    (2.5, 1.8),
    (0.5, 2.5),  # a paragraph's lines, drawn far apart
    (0.5, 3.5),
)
MARGINS = (0.0, 0.3, 0.7)  # in handwriting heights
SHAPE_KINDS = ("rect", "image", "select", "circle", "hline", "control_rect", "control_circle", "other")
RULE_TYPES = (*CLASSES[1:], "icon", "divider", "navbar", "footer", "card")


@dataclass(frozen=True)
class Candidate:
    box: tuple[float, float, float, float]  # x, y, w, h in working pixels
    reach: int  # 0: one component, 1..len(REACHES): grouped, len(REACHES) + 1: a rule element
    margin: int  # index into MARGINS


def propose(seen: Observation) -> list[Candidate]:
    gh = seen.gh
    lab, stats = seen.components
    keep = np.zeros(len(stats), bool)
    keep[1:] = (stats[1:, 4] >= 12) & (np.maximum(stats[1:, 2], stats[1:, 3]) >= 0.4 * gh)
    clean = keep[lab].astype(np.uint8) * 255
    tight: dict[tuple[int, int, int, int], int] = {}
    for i in np.nonzero(keep)[0]:
        tight.setdefault((int(stats[i, 0]), int(stats[i, 1]), int(stats[i, 2]), int(stats[i, 3])), 0)
    # Grouping at half resolution: a grown blob's box is what matters, and labelling the
    # components of a quarter of the pixels is most of the time this takes.
    half = cv2.resize(
        clean, (max(1, clean.shape[1] // 2), max(1, clean.shape[0] // 2)), interpolation=cv2.INTER_AREA
    )
    half = np.where(half > 0, 255, 0).astype(np.uint8)
    for level, (kx, ky) in enumerate(REACHES, start=1):
        kw, kh = max(1, int(kx * gh / 2)), max(1, int(ky * gh / 2))
        grown_ink = cv2.dilate(half, cv2.getStructuringElement(cv2.MORPH_RECT, (kw, kh)))
        m, _, grown, _ = cv2.connectedComponentsWithStats(grown_ink, connectivity=8)
        hx, hy = kw // 2, kh // 2  # back to the ink under the grown blob
        for j in range(1, m):
            x, y, w, h = (int(v) for v in grown[j, :4])
            box = (2 * (x + hx), 2 * (y + hy), max(1, 2 * (w - 2 * hx)), max(1, 2 * (h - 2 * hy)))
            tight.setdefault(box, level)
    rule_level = len(REACHES) + 1
    for node in seen.rules:
        x, y, w, h = (int(v) for v in node.bbox)
        tight.setdefault((x, y, max(1, w), max(1, h)), rule_level)
    for box, level in _rows(clean, tight, gh).items():
        tight.setdefault(box, level)
    out = []
    for (x, y, w, h), level in tight.items():
        for k, f in enumerate(MARGINS):
            q = f * gh
            out.append(Candidate((x - q, y - q, w + 2 * q, h + 2 * q), level, k))
    return out


ROW_MAX_LEVEL = 4  # the groupings widened to their row: words and lines of writing
ROW_STROKE = 0.6  # an upright stroke crosses this share of a line's height


def _rows(
    clean: np.ndarray, tight: dict[tuple[int, int, int, int], int], gh: float
) -> dict[tuple[int, int, int, int], int]:
    """People often mark a heading or a label as the whole row it stands in: the writing
    widened to the next upright stroke on each side (a card's edge, a box beside it) or to
    the page. Each line of writing is also proposed widened rightwards and both ways."""
    hgt, wid = clean.shape
    down = np.vstack([np.zeros((1, wid), np.int32), np.cumsum(clean > 0, 0, dtype=np.int32)])
    out: dict[tuple[int, int, int, int], int] = {}
    base = len(REACHES) + 2
    for (x, y, w, h), level in tight.items():
        if level > ROW_MAX_LEVEL or h > 2.5 * gh or w < gh:
            continue
        cols = down[min(y + h, hgt)] - down[max(y, 0)]
        upright = cols >= ROW_STROKE * h
        gap = int(0.5 * gh)
        right = np.nonzero(upright[min(x + w + gap, wid) :])[0]
        x1 = x + w + gap + int(right[0]) if len(right) else wid - 1
        left = np.nonzero(upright[: max(x - gap, 0)])[0]
        x0 = int(left[-1]) + 1 if len(left) else 0
        out.setdefault((x, y, max(1, x1 - x), h), base)
        out.setdefault((x0, y, max(1, x1 - x0), h), base + 1)
    return out


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (n, 4) with every box in ``b`` (m, 4), boxes as x, y, w, h."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    iw = np.minimum(a[:, :1] + a[:, 2:3], b[:, 0] + b[:, 2]) - np.maximum(a[:, :1], b[:, 0])
    ih = np.minimum(a[:, 1:2] + a[:, 3:4], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1:2], b[:, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    union = a[:, 2:3] * a[:, 3:4] + b[:, 2] * b[:, 3] - inter
    return inter / np.maximum(union, 1e-9)


def features(seen: Observation, cands: list[Candidate]) -> np.ndarray:
    """One row of float32 features per candidate (NaN where a feature does not apply)."""
    ink, gh = seen.ink, seen.gh
    hgt, wid = ink.shape
    integral = cv2.integral((ink > 0).astype(np.uint8))

    def density(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
        x0, x1 = np.clip(x0, 0, wid), np.clip(x1, 0, wid)
        y0, y1 = np.clip(y0, 0, hgt), np.clip(y1, 0, hgt)
        total = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
        return total / np.maximum((x1 - x0) * (y1 - y0), 1)

    b = np.array([c.box for c in cands], np.float64).reshape(-1, 4)
    n = len(b)
    w, h = b[:, 2], b[:, 3]
    x0, y0 = b[:, 0].astype(int), b[:, 1].astype(int)
    x1, y1 = (b[:, 0] + w).astype(int), (b[:, 1] + h).astype(int)
    band = np.maximum((0.12 * np.minimum(w, h)).astype(int), 2)
    quarter = (0.25 * w).astype(int)
    inside_all = density(x0, y0, x1, y1)
    cols = [
        b[:, 0] / wid,
        b[:, 1] / hgt,
        (b[:, 0] + w) / wid,
        (b[:, 1] + h) / hgt,
        w / wid,
        h / hgt,
        w / gh,
        h / gh,
        np.log(w / h),
        inside_all,
        density(x0 + band, y0 + band, x1 - band, y1 - band),
        density(x0, y0, x1, y0 + band),
        density(x0, y1 - band, x1, y1),
        density(x0, y0, x0 + band, y1),
        density(x1 - band, y0, x1, y1),
        density(x0, y0, x0 + quarter, y1),
        density(x1 - quarter, y0, x1, y1),
        density(x0 - 2 * band, y0 - 2 * band, x1 + 2 * band, y1 + 2 * band) - inside_all,
        np.array([c.reach for c in cands], np.float64),
        np.array([c.margin for c in cands], np.float64),
        np.full(n, wid / hgt),
        np.full(n, gh / hgt),
    ]
    cols += _text_features(seen, b)
    cols += _shape_features(seen, b, gh)
    cols += _rule_features(seen, b)
    cols += _component_features(seen, b, integral)
    return np.column_stack(cols).astype(np.float32)


def _text_features(seen: Observation, b: np.ndarray) -> list[np.ndarray]:
    n = len(b)
    if not seen.texts:
        return (
            [np.zeros(n), np.full(n, np.nan), np.full(n, np.nan), np.zeros(n), np.zeros(n)]
            + [np.full(n, np.nan)] * 4
            + [np.zeros(n)]
        )
    t = np.array([x.box for x in seen.texts], np.float64)
    cx, cy = t[:, 0] + t[:, 2] / 2, t[:, 1] + t[:, 3] / 2
    inside = (
        (cx[None] >= b[:, :1])
        & (cx[None] <= b[:, :1] + b[:, 2:3])
        & (cy[None] >= b[:, 1:2])
        & (cy[None] <= b[:, 1:2] + b[:, 3:4])
    )
    count = inside.sum(1)
    some = count > 0
    median_h = float(np.median(t[:, 3]))
    heights = np.where(inside, t[None, :, 3], np.nan)
    scores = np.where(inside, np.array([x.score for x in seen.texts])[None], np.nan)
    lengths = np.array([len(x.text) for x in seen.texts], np.float64)
    left = np.where(inside, t[None, :, 0], np.inf).min(1)
    right = np.where(inside, t[None, :, 0] + t[None, :, 2], -np.inf).max(1)
    top = np.where(inside, t[None, :, 1], np.inf).min(1)
    bottom = np.where(inside, t[None, :, 1] + t[None, :, 3], -np.inf).max(1)
    with np.errstate(all="ignore"):
        tallest = np.where(some, np.nanmax(np.where(some[:, None], heights, 0), 1) / median_h, np.nan)
        mean_h = np.where(some, np.nansum(heights, 1) / np.maximum(count, 1) / median_h, np.nan)
        mean_score = np.where(some, np.nansum(scores, 1) / np.maximum(count, 1), np.nan)
        cover = (inside * t[None, :, 2] * t[None, :, 3]).sum(1) / (b[:, 2] * b[:, 3])
        left_margin = np.where(some, (left - b[:, 0]) / b[:, 2], np.nan)
        right_margin = np.where(some, (b[:, 0] + b[:, 2] - right) / b[:, 2], np.nan)
        span = np.where(some, (bottom - top) / b[:, 3], np.nan)
    cut = ((iou_matrix(b, t) > 0) & ~inside).sum(1)  # readings the box cuts through
    return [
        count,
        tallest,
        mean_h,
        cover,
        (inside * lengths[None]).sum(1),
        mean_score,
        left_margin,
        right_margin,
        span,
        cut,
    ]


def _shape_features(seen: Observation, b: np.ndarray, gh: float) -> list[np.ndarray]:
    n = len(b)
    if not seen.shapes:
        return [np.zeros(n)] * (2 * len(SHAPE_KINDS) + 1)
    s = np.array([x.box for x in seen.shapes], np.float64)
    kinds = np.array([x.kind for x in seen.shapes])
    inside = (
        (s[None, :, 0] >= b[:, :1] - 2)
        & (s[None, :, 1] >= b[:, 1:2] - 2)
        & (s[None, :, 0] + s[None, :, 2] <= b[:, :1] + b[:, 2:3] + 2)
        & (s[None, :, 1] + s[None, :, 3] <= b[:, 1:2] + b[:, 3:4] + 2)
    )
    overlap = iou_matrix(b, s)
    cols = []
    for kind in SHAPE_KINDS:
        m = kinds == kind
        cols.append(inside[:, m].sum(1))
        cols.append(overlap[:, m].max(1) if m.any() else np.zeros(n))
    control = np.isin(kinds, ["control_rect", "control_circle"])
    leftmost = inside[:, control] & (s[None, control, 0] <= b[:, :1] + 0.25 * b[:, 2:3] + 2 * gh)
    cols.append(leftmost.sum(1))
    return cols


def _component_features(seen: Observation, b: np.ndarray, integral: np.ndarray) -> list[np.ndarray]:
    """The first and last marks in a candidate: a checkbox or radio starts with a small hollow
    square or circle, a select ends with an arrow, a label starts with a letter."""
    ink, gh = seen.ink, seen.gh
    n = len(b)
    st = seen.components[1][1:].astype(np.float64)
    st = st[np.maximum(st[:, 2], st[:, 3]) >= 0.4 * gh]
    if not len(st):
        return [np.full(n, np.nan)] * 12
    cx0, cy0, cw, ch, area = st[:, 0], st[:, 1], st[:, 2], st[:, 3], st[:, 4]
    held = (
        (cx0[None] >= b[:, :1] - 2)
        & (cy0[None] >= b[:, 1:2] - 2)
        & (cx0[None] + cw[None] <= b[:, :1] + b[:, 2:3] + 2)
        & (cy0[None] + ch[None] <= b[:, 1:2] + b[:, 3:4] + 2)
    )
    count = held.sum(1)
    some = count > 0
    first = np.where(held, cx0[None], np.inf).argmin(1)
    last = np.where(held, cx0[None] + cw[None], -np.inf).argmax(1)
    right_of_first = np.where(held & (cx0[None] > (cx0 + cw)[first][:, None]), cx0[None], np.inf).min(1)

    def dens(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
        hgt, wid = ink.shape
        x0, x1 = np.clip(x0.astype(int), 0, wid), np.clip(x1.astype(int), 0, wid)
        y0, y1 = np.clip(y0.astype(int), 0, hgt), np.clip(y1.astype(int), 0, hgt)
        t = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
        return t / np.maximum((x1 - x0) * (y1 - y0), 1)

    fx, fy, fw, fh = cx0[first], cy0[first], cw[first], ch[first]
    qx, qy = 0.2 * fw, 0.2 * fh
    corners = (
        dens(fx, fy, fx + qx, fy + qy)
        + dens(fx + fw - qx, fy, fx + fw, fy + qy)
        + dens(fx, fy + fh - qy, fx + qx, fy + fh)
        + dens(fx + fw - qx, fy + fh - qy, fx + fw, fy + fh)
    ) / 4
    middles = (
        dens(fx + 2 * qx, fy, fx + fw - 2 * qx, fy + qy)
        + dens(fx + 2 * qx, fy + fh - qy, fx + fw - 2 * qx, fy + fh)
        + dens(fx, fy + 2 * qy, fx + qx, fy + fh - 2 * qy)
        + dens(fx + fw - qx, fy + 2 * qy, fx + fw, fy + fh - 2 * qy)
    ) / 4
    hollow = dens(fx + 1.5 * qx, fy + 1.5 * qy, fx + fw - 1.5 * qx, fy + fh - 1.5 * qy)
    lw, lh = cw[last], ch[last]
    with np.errstate(all="ignore"):
        cols = [
            count,
            fw / gh,
            fh / gh,
            fw / fh,
            area[first] / (fw * fh),
            corners / np.maximum(middles, 1e-3),
            hollow,
            (right_of_first - fx - fw) / gh,
            (fx - b[:, 0]) / b[:, 2],
            lw / gh,
            lh / gh,
            area[last] / (lw * lh),
        ]
    return [np.where(some, c, np.nan) for c in cols]


def _rule_features(seen: Observation, b: np.ndarray) -> list[np.ndarray]:
    n = len(b)
    if not seen.rules:
        return [np.zeros(n), np.full(n, -1.0)]
    r = np.array([x.bbox for x in seen.rules], np.float64)
    types = np.array(
        [RULE_TYPES.index(x.type) if x.type in RULE_TYPES else -1 for x in seen.rules], np.float64
    )
    overlap = iou_matrix(b, r)
    best = overlap.max(1)
    return [best, np.where(best > 0.3, types[overlap.argmax(1)], -1.0)]
