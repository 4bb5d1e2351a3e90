"""Offline sketch understanding: a cleaned wireframe image in, a typed layout tree out.

How it works, and why in this order:

1. **Strokes first.** Connected components of the ink mask are sorted into boxes
   (closed, rectangular), circles, horizontal lines (wavy "text lines" and underlines),
   small isolated squares/circles (checkboxes, radio buttons, icons) and the rest
   (letters, arrows, ticks). Box borders, lines and controls are then *erased* from
   the picture before OCR: text written inside a button or next to a checkbox reads
   far better without the pen strokes around it.
2. **Labels.** The bundled PP-OCR models (``rapidocr``, loaded once per process)
   read what is left; each reading is tightened to the ink it covers.
3. **Classification** by geometry and context (below).
4. **Layout tree** by recursive X-Y cuts: a set of elements is split at the widest
   empty horizontal band (a *column* of stacked parts) or vertical band (a *row* of
   side-by-side parts), recursively; containers (navbar, footer, card) are cut inside.

Vocabulary (``type`` values). Leaves (the flat ``elements`` list):

- ``heading``: free text clearly taller than the page's normal writing.
- ``label``: other free text (field labels, captions, footer items).
- ``link``: underlined text, and text inside a navbar.
- ``paragraph``: one or more stacked wavy/straight lines standing for body text.
- ``button``: a short box whose text fills most of it.
- ``text_input``: a box holding no text or a left-aligned placeholder.
- ``select``: a box with a down arrow (triangle or chevron) at its right end.
- ``checkbox``/``radio``: a small square/circle followed by its label (bbox covers both).
- ``image``: a box crossed by an X (a large circle also counts: an avatar).
- ``icon``: a small square or circle with no label beside it.
- ``divider``: a single long line across the page.

Containers (tree only): ``navbar`` (a wide box along the top), ``footer`` (a wide box
along the bottom), ``card`` (any other box holding elements); and the structural
``page``, ``row`` (children side by side) and ``column`` (children stacked).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from seesay.vision.images import Prepared

log = logging.getLogger(__name__)

LEAF_TYPES = (
    "heading",
    "label",
    "link",
    "paragraph",
    "button",
    "text_input",
    "select",
    "checkbox",
    "radio",
    "image",
    "icon",
    "divider",
)
CONTAINER_TYPES = ("page", "row", "column", "navbar", "footer", "card")

Box = tuple[float, float, float, float]  # x, y, w, h in working pixels


@dataclass
class Node:
    """One element of the layout tree; ``bbox`` is [x, y, w, h]."""

    type: str
    bbox: list[int]
    text: str = ""
    children: list[Node] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"lines": 3} for a paragraph

    @property
    def is_leaf(self) -> bool:
        return self.type in LEAF_TYPES

    def leaves(self) -> list[Node]:
        if self.is_leaf:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "bbox": list(self.bbox)}
        if self.is_leaf:
            out["text"] = self.text
            if self.meta:
                out["meta"] = dict(self.meta)
        else:
            out["children"] = [c.to_dict() for c in self.children]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Node:
        return cls(
            type=d["type"],
            bbox=list(d["bbox"]),
            text=d.get("text", ""),
            children=[cls.from_dict(c) for c in d.get("children", [])],
            meta=dict(d.get("meta", {})),
        )


@dataclass
class Layout:
    """The contract between understanding and generation (``seesay sketch --layout``)."""

    tree: Node
    width: int
    height: int
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def elements(self) -> list[Node]:
        return self.tree.leaves()

    def to_dict(self) -> dict[str, Any]:
        return {
            "tree": self.tree.to_dict(),
            "elements": [{"type": e.type, "bbox": list(e.bbox), "text": e.text} for e in self.elements],
            "image": {"width": self.width, "height": self.height},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Layout:
        return cls(
            tree=Node.from_dict(d["tree"]), width=int(d["image"]["width"]), height=int(d["image"]["height"])
        )

    def labels(self) -> list[str]:
        return [e.text for e in self.elements if e.text]


# --- OCR ------------------------------------------------------------------------------------------

_ocr: Any = None
_ocr_lock = threading.Lock()


def ocr_engine() -> Any:
    """The RapidOCR instance, created once: loading three ONNX sessions costs ~0.3 s."""
    global _ocr
    with _ocr_lock:
        if _ocr is None:
            from rapidocr import RapidOCR

            # No orientation classifier: sketches are upright once deskewed, and it costs time.
            _ocr = RapidOCR(params={"Global.log_level": "warning", "Global.use_cls": False})
        return _ocr


@dataclass
class _Text:
    box: Box
    text: str
    score: float
    used: bool = False


_JUNK = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9.!?%)]+$")


def _clean_text(s: str) -> str:
    s = "".join(ch for ch in unicodedata.normalize("NFKD", s) if ch.isascii())
    s = re.sub(r"\s+", " ", s)
    return _JUNK.sub("", s).strip()


def read_text(gray: np.ndarray, ink: np.ndarray) -> list[_Text]:
    """OCR ``gray``; each result is tightened to the ink inside its quadrilateral."""
    result = ocr_engine()(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), return_word_box=True)
    out: list[_Text] = []
    if result.boxes is None:
        return out
    for quad, raw, score, words in zip(
        result.boxes, result.txts, result.scores, result.word_results, strict=False
    ):
        for part_quad, part in _split_words(quad, raw, words):
            _add_reading(out, ink, part_quad, part, score)
    return out


def _split_words(quad: np.ndarray, raw: str, words: Any) -> list[tuple[np.ndarray, str]]:
    """One OCR line can span several items (navbar links): split it where words are far apart."""
    height = float(quad[:, 1].max() - quad[:, 1].min())
    boxes = [(w, np.asarray(b, dtype=np.float64)) for w, _, b in (words or ()) if b is not None and w]
    if len(boxes) < 2:
        return [(quad, raw)]
    groups: list[list[tuple[str, np.ndarray]]] = [[boxes[0]]]
    for word, box in boxes[1:]:
        gap = box[:, 0].min() - groups[-1][-1][1][:, 0].max()
        if gap > 0.9 * height:
            groups.append([(word, box)])
        else:
            groups[-1].append((word, box))
    if len(groups) == 1:
        return [(quad, raw)]
    return [(np.vstack([b for _, b in g]), " ".join(w for w, _ in g)) for g in groups]


def _add_reading(out: list[_Text], ink: np.ndarray, quad: np.ndarray, raw: str, score: float) -> None:
    text = _clean_text(raw)
    if score < 0.5 or not any(ch.isalnum() for ch in text):
        return
    x0, y0 = (max(int(v), 0) for v in np.floor(quad.min(axis=0)))
    x1, y1 = (int(v) for v in np.ceil(quad.max(axis=0)))
    ys, xs = np.nonzero(ink[y0:y1, x0:x1])
    if len(xs) > 10:
        box = (x0 + xs.min(), y0 + ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    else:
        box = (x0, y0, x1 - x0, y1 - y0)
    out.append(_Text(tuple(float(v) for v in box), text, float(score)))  # type: ignore[arg-type]


# --- strokes --------------------------------------------------------------------------------------


@dataclass
class _Shape:
    kind: str  # rect, circle, hline, control_rect, control_circle, other
    box: Box
    label: int  # component id in the label image
    fill: float = 0.0
    used: bool = False
    points_down: bool = False  # wider at the top than at the bottom (a drop-down arrow)


def _glyph_height(stats: np.ndarray) -> float:
    """Typical height of a written character, from the small components (before OCR)."""
    hs = [h for _, _, w, h, a in stats[1:] if 8 <= h <= 90 and w <= 2.5 * h and a >= 15]
    return float(np.median(hs)) if hs else 24.0


def find_shapes(ink: np.ndarray) -> tuple[list[_Shape], np.ndarray, float]:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    gh = _glyph_height(stats)
    shapes: list[_Shape] = []
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
                shapes.append(_Shape("hline", (x, y, w, h), i))
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
        shapes.append(_Shape(kind, (x, y, w, h), i, fill, points_down=bool(top > 1.6 * max(bottom, 1))))
    _keep_isolated_controls(shapes, gh)
    return shapes, labels, gh


def _corners_inked(crop: np.ndarray) -> bool:
    """A square has ink in (at least three of) its bounding-box corners, a circle in none."""
    h, w = crop.shape
    cy = cx = max(2, min(h, w) // 8)
    corners = [crop[:cy, :cx], crop[:cy, -cx:], crop[-cy:, :cx], crop[-cy:, -cx:]]
    return sum(int(c.any()) for c in corners) >= 3


def _keep_isolated_controls(shapes: list[_Shape], gh: float) -> None:
    """A letter O or D looks like a radio button or checkbox; a control stands apart from
    its neighbours (a word-space or more), a letter touches the next one."""
    small = [s for s in shapes if s.kind in ("other", "control_rect", "control_circle")]
    for s in shapes:
        if not s.kind.startswith("control"):
            continue
        x, y, w, h = s.box
        for o in small:
            ox, oy, ow, oh = o.box
            if o is s or _inside(o.box, s.box, tol=2) or oh < 0.4 * h or not y <= oy + oh / 2 <= y + h:
                continue  # a tick inside a checkbox, or noise, is not a neighbouring letter
            gap = ox - (x + w) if ox >= x + w else x - (ox + ow) if ox + ow <= x else -1
            if gap < 0.3 * gh:
                s.kind = "other"
                break


def _inside(inner: Box, outer: Box, tol: float = 4) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return x >= ox - tol and y >= oy - tol and x + w <= ox + ow + tol and y + h <= oy + oh + tol


def _has_x(ink: np.ndarray, box: Box) -> bool:
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


def _arrow(shapes: list[_Shape], box: Box, gh: float) -> _Shape | None:
    """A small mark alone in the right end of a box: the drop-down arrow of a select.

    Alone matters: the last letter of a button's label also sits at the right end."""
    x, y, w, h = box
    marks = [s for s in shapes if s.kind == "other" and _inside(s.box, box)]
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


# --- analysis -------------------------------------------------------------------------------------


def analyse(prepared: Prepared) -> Layout:
    """Detect, read and classify the drawn elements, then build the layout tree."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    ink = prepared.ink
    hgt, wid = ink.shape
    shapes, labels, gh = find_shapes(ink)
    rects = [s for s in shapes if s.kind == "rect"]
    images = [r for r in rects if _has_x(ink, r.box)]
    for r in images:
        r.kind = "image"
    for r in rects:
        if r.kind == "rect" and r.box[3] <= 5.5 * gh:
            a = _arrow(shapes, r.box, gh)
            if a is not None:
                a.used = True
                r.kind = "select"
    # Erase everything that is not writing, so OCR sees only the labels.
    erase = np.zeros_like(ink)
    for s in shapes:
        if (
            s.kind in ("rect", "image", "select", "circle", "hline", "control_rect", "control_circle")
            or s.used
        ):
            erase[labels == s.label] = 255
        if s.kind == "image":
            x, y, w, h = (int(v) for v in s.box)
            erase[y : y + h, x : x + w] = 255
    erase = cv2.dilate(erase, np.ones((5, 5), np.uint8))
    text_gray = prepared.gray.copy()
    text_gray[erase > 0] = 255
    text_ink = cv2.bitwise_and(ink, cv2.bitwise_not(erase))
    timings["shapes"] = time.perf_counter() - t

    t = time.perf_counter()
    texts = read_text(text_gray, text_ink)
    timings["ocr"] = time.perf_counter() - t

    t = time.perf_counter()
    nodes = _classify(shapes, texts, gh, wid, hgt)
    tree = build_tree(nodes, (0, 0, wid, hgt))
    _to_input_pixels(tree, prepared)
    timings["classify"] = time.perf_counter() - t
    return Layout(
        tree=tree,
        width=prepared.original_size[0],
        height=prepared.original_size[1],
        timings=timings,
        notes=list(prepared.notes),
    )


def _node(kind: str, box: Box, text: str = "", **meta: Any) -> Node:
    return Node(kind, [round(v) for v in box], text, meta=meta)


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


def _text_right_of(box: Box, texts: list[_Text], gh: float) -> _Text | None:
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


def _classify(shapes: list[_Shape], texts: list[_Text], gh: float, wid: int, hgt: int) -> list[Node]:
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
        inner = [t for t in texts if not t.used and _inside(t.box, r.box)]
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
            and _inside(s.box, r.box)
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
    groups: list[list[_Shape]] = []
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
    _containers_adopt(nodes)
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


def _text_rows(texts: list[_Text]) -> list[list[_Text]]:
    rows: list[list[_Text]] = []
    for t in sorted(texts, key=lambda t: t.box[1]):
        if rows and t.box[1] < rows[-1][0].box[1] + 0.6 * rows[-1][0].box[3]:
            rows[-1].append(t)
        else:
            rows.append([t])
    return rows


def _containers_adopt(nodes: list[Node]) -> None:
    """Navbar texts are links; footer texts stay labels unless underlined."""
    for c in nodes:
        if c.type != "navbar":
            continue
        for n in nodes:
            if n.type == "label" and _inside(tuple(n.bbox), tuple(c.bbox)):  # type: ignore[arg-type]
                n.type = "link"


# --- layout tree ----------------------------------------------------------------------------------


def build_tree(nodes: list[Node], page: Box) -> Node:
    """Nest leaves into their innermost container, then X-Y cut every container's children."""
    containers = sorted((n for n in nodes if not n.is_leaf), key=lambda n: n.bbox[2] * n.bbox[3])
    parent: dict[int, Node | None] = {}
    for n in nodes:
        holder = None
        for c in containers:
            if (
                c is not n
                and c.bbox[2] * c.bbox[3] > n.bbox[2] * n.bbox[3]
                and _inside(tuple(n.bbox), tuple(c.bbox), tol=6)  # type: ignore[arg-type]
            ):
                holder = c
                break
        parent[id(n)] = holder
    root = Node("page", [round(v) for v in page])
    kids: dict[int, list[Node]] = {id(root): []}
    for c in containers:
        kids[id(c)] = []
    for n in nodes:
        holder = parent[id(n)] or root
        kids[id(holder)].append(n)
    for holder in containers:
        holder.children = _xy_cut(kids[id(holder)])
    # Navbars and footers are page-wide bands: keep them at the top level, in reading order,
    # so a cut elsewhere can never nest the header inside a column of content.
    bands = [n for n in kids[id(root)] if n.type in ("navbar", "footer")]
    rest = _xy_cut([n for n in kids[id(root)] if n.type not in ("navbar", "footer")])
    top = [b for b in bands if b.type == "navbar"]
    bottom = [b for b in bands if b.type == "footer"]
    root.children = sorted(top, key=lambda n: n.bbox[1]) + rest + sorted(bottom, key=lambda n: n.bbox[1])
    return root


def _xy_cut(items: list[Node], depth: int = 0) -> list[Node]:
    """Recursive X-Y cut: stacked groups become a column, side-by-side groups a row.

    Of the two axes, cut along the one with the widest empty band (ties go to stacking,
    since pages read top to bottom): a form with a column of inputs beside a column of
    checkboxes splits into the two columns, not into rows that mix them.
    """
    if len(items) <= 1:
        return items
    stacked, gap_y = _split(items, 1)
    side, gap_x = _split(items, 0)
    if len(stacked) > 1 and (len(side) < 2 or gap_y >= 0.8 * gap_x):
        if depth == 0:
            return [_wrap(g, depth) for g in stacked]
        return [_group_node("column", [_wrap(g, depth) for g in stacked])]
    if len(side) > 1:
        return [_group_node("row", [_wrap(g, depth) for g in side])]
    return sorted(items, key=lambda n: (n.bbox[1], n.bbox[0]))


def _wrap(group: list[Node], depth: int) -> Node:
    if len(group) == 1:
        return group[0]
    inner = _xy_cut(group, depth + 1)
    if len(inner) == 1:
        return inner[0]
    return _group_node("column", inner)


def _group_node(kind: str, children: list[Node]) -> Node:
    x0 = min(c.bbox[0] for c in children)
    y0 = min(c.bbox[1] for c in children)
    x1 = max(c.bbox[0] + c.bbox[2] for c in children)
    y1 = max(c.bbox[1] + c.bbox[3] for c in children)
    # A row inside a row (or column in column) adds nothing: flatten it.
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if c.type == kind else [c])
    return Node(kind, [x0, y0, x1 - x0, y1 - y0], children=flat)


def _split(items: list[Node], axis: int) -> tuple[list[list[Node]], float]:
    """Cut along ``axis`` at the empty bands nearly as wide as the widest one (a few pixels of
    overlap allowed); narrower bands are left to the recursion. Returns groups and widest gap."""
    spans = sorted(
        ((n.bbox[axis] + 3, n.bbox[axis] + n.bbox[axis + 2] - 3, n) for n in items), key=lambda s: s[0]
    )
    groups: list[list[Node]] = []
    gaps: list[float] = []
    end = -1e9
    for lo, hi, n in spans:
        if not groups or lo > end:
            if groups:
                gaps.append(lo - end)
            groups.append([n])
            end = hi
        else:
            groups[-1].append(n)
            end = max(end, hi)
    if not gaps:
        return groups, 0.0
    widest = max(gaps)
    merged = [groups[0]]
    for gap, group in zip(gaps, groups[1:], strict=True):
        if gap >= 0.7 * widest:
            merged.append(group)
        else:
            merged[-1] = merged[-1] + group
    return merged, widest


def _to_input_pixels(node: Node, prepared: Prepared) -> None:
    node.bbox = prepared.to_input_bbox(tuple(node.bbox))  # type: ignore[arg-type]
    for c in node.children:
        _to_input_pixels(c, prepared)


def analyse_image(source: Any, *, max_pixels: int | None = None, max_side: int | None = None) -> Layout:
    """Load, clean and analyse in one call (what the CLI, the bench and the studio use)."""
    from seesay.vision import images

    t = time.perf_counter()
    loaded = images.load_image(
        source,
        max_pixels=max_pixels or images.DEFAULT_MAX_PIXELS,
        max_side=max_side or images.DEFAULT_MAX_SIDE,
    )
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    prepared = images.prepare(loaded)
    t_prep = time.perf_counter() - t
    layout = analyse(prepared)
    layout.timings = {"load": t_load, "preprocess": t_prep, **layout.timings}
    if loaded.frames > 1:
        layout.notes.append(f"animated image: used the first of {loaded.frames} frames")
    if not layout.elements:
        layout.notes.append("no drawn elements found")
    return layout
