"""Offline sketch understanding: a cleaned wireframe image in, a typed layout tree out.

How it works, and why in this order:

1. **Strokes first.** Connected components of the ink mask are sorted into boxes
   (closed, rectangular), circles, horizontal lines (wavy "text lines" and underlines),
   small isolated squares/circles (checkboxes, radio buttons, icons) and the rest
   (letters, arrows, ticks). Box borders, lines and controls are then *erased* from
   the picture before OCR: text written inside a button or next to a checkbox reads
   far better without the pen strokes around it.
2. **Labels.** The bundled PP-OCR models (``rapidocr``, loaded once per process)
   read what is left; each reading is tightened to the ink it covers, then corrected
   against English and Spanish word lists (:mod:`seesay.vision.spelling`), keeping the
   raw reading and the OCR's confidence beside it.
3. **Hand rules** classify strokes and readings by geometry and context (``_classify``):
   they name the containers (navbar, footer, card) and give the element model one of
   its features (:class:`Observation`).
4. **Elements** are chosen by the element model (:mod:`seesay.vision.elements`) among
   candidate groupings of the strokes: on real paper the rules alone found half of what
   people drew.
5. **Layout tree** by recursive X-Y cuts: a set of elements is split at the widest
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
- ``icon``: a small square or circle with no label beside it (found by the rules, kept
  where the element model did not make it into another element).
- ``divider``: a single long line across the page (added by revisions; the reader leaves
  lone lines out, as people labelled them as nothing).

Containers (tree only): ``navbar`` (a wide box along the top), ``footer`` (a wide box
along the bottom), ``card`` (any other box holding elements); and the structural
``page``, ``row`` (children side by side) and ``column`` (children stacked).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import cv2
import numpy as np

from seesay.vision.images import Prepared
from seesay.vision.layout import Layout, Node
from seesay.vision.layout_tree import build_tree
from seesay.vision.ocr import Reading, attach_readings, correct_spelling, read_text
from seesay.vision.rules import classify
from seesay.vision.strokes import Shape, arrow, find_shapes, has_x

log = logging.getLogger(__name__)


@dataclass
class Observation:
    """What the strokes and the OCR say about one sketch, in working pixels: what the hand
    rules read (``rules``) and what the element model (:mod:`seesay.vision.elements`) reads."""

    ink: np.ndarray
    shapes: list[Shape]
    gh: float  # typical height of a written character
    texts: list[Reading]
    rules: list[Node]  # the hand rules' leaves and containers
    timings: dict[str, float] = field(default_factory=dict)

    @cached_property
    def components(self) -> tuple[np.ndarray, np.ndarray]:
        """The ink's connected components: a label image (0 is paper) and rows of x, y, w, h,
        area per label. Labelled once per sketch; the candidates and their features need them."""
        _, labels, stats, _ = cv2.connectedComponentsWithStats(self.ink, connectivity=8)
        return labels, stats


def observe(prepared: Prepared) -> Observation:
    """Find the strokes, read the writing, and classify both by hand rules."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    ink = prepared.ink
    hgt, wid = ink.shape
    shapes, labels, gh = find_shapes(ink)
    rects = [s for s in shapes if s.kind == "rect"]
    images = [r for r in rects if has_x(ink, r.box)]
    for r in images:
        r.kind = "image"
    for r in rects:
        if r.kind == "rect" and r.box[3] <= 5.5 * gh:
            a = arrow(shapes, r.box, gh)
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
    correct_spelling(texts)
    timings["spelling"] = time.perf_counter() - t

    t = time.perf_counter()
    nodes = classify(shapes, texts, gh, wid, hgt)
    timings["rules"] = time.perf_counter() - t
    return Observation(ink, shapes, gh, texts, nodes, timings)


def analyse(prepared: Prepared) -> Layout:
    """Detect, read and classify the drawn elements, then build the layout tree."""
    return compose(observe(prepared), prepared)


def compose(seen: Observation, prepared: Prepared, model: Any = None) -> Layout:
    """The layout from what was observed: elements by the element model (``model``, default the
    shipped one), readings attached, the tree built, boxes mapped back to input pixels."""
    from seesay.vision import elements

    t = time.perf_counter()
    nodes = elements.find(seen, model)
    attach_readings(nodes, seen.texts)
    hgt, wid = prepared.ink.shape
    tree = build_tree(nodes, (0, 0, wid, hgt))
    _to_input_pixels(tree, prepared)
    return Layout(
        tree=tree,
        width=prepared.original_size[0],
        height=prepared.original_size[1],
        timings={**seen.timings, "classify": time.perf_counter() - t},
        notes=list(prepared.notes),
    )


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
