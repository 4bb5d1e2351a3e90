"""The element model: which candidate groupings of strokes are elements, and of what type.

Hand rules found about half of what people drew on real paper (recall 0.55 over the labelled
photographs) and typed a third of it: real pens, lighting and habits vary more than rules
can follow. A gradient-boosted tree ensemble (LightGBM, the field's tool for tabular data:
small, fast on a CPU, saved as text) scores every candidate of
:mod:`seesay.vision.candidates`; the best-scoring candidates that do not overlap a better one
become the page's elements. The rules still supply the containers the labelled sketches do
not name (navbars, footers, cards) and one feature of every candidate.

The model ships with the package (``assets/sketch_elements.txt`` and its gate,
``assets/sketch_candidates.txt``) and is rebuilt by :mod:`seesay.vision.training` from
labelled sketches and generated ones, from a fixed seed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from seesay.errors import VisionError
from seesay.vision.candidates import CLASSES, Candidate, features, iou_matrix, propose
from seesay.vision.layout import Node
from seesay.vision.ocr import Reading
from seesay.vision.rules import navbar_links
from seesay.vision.sketch import Observation
from seesay.vision.strokes import inside

log = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).resolve().parents[1] / "assets" / "sketch_elements.txt"
GATE_PATH = MODEL_PATH.with_name("sketch_candidates.txt")
MIN_SCORE = 0.3  # the lowest probability of being an element kept (chosen on held-out folds)
GATE_MIN = 0.05  # candidates the gate rates below this are not scored further
THREADS = 2  # the trees are shared out over this many cores
OVERLAP = 0.3  # a candidate overlapping a better one by more (IoU) is the same element
HELD = 0.8  # a candidate this much inside a better one is part of it
# What the rules add: containers. A lone line (the rules' divider) is left out: people
# labelled such lines as nothing.
RULE_ONLY = ("navbar", "footer", "card")
TEXT_TYPES = ("label", "heading", "link", "paragraph")

_lock = threading.Lock()


@dataclass(frozen=True)
class ElementModel:
    """Two boosted tree ensembles: a small binary ``gate`` that drops the candidates plainly
    not an element (most of them), and the ``types`` model, which gives the rest a probability
    per class of :data:`CLASSES`. The gate is what keeps a sketch within a tenth of a second."""

    gate: Any
    types: Any

    def scores(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), len(CLASSES)))
        out[:, 0] = 1.0
        if not len(x):
            return out
        keep = self.gate.predict(x, num_threads=THREADS) >= GATE_MIN
        if keep.any():
            out[keep] = self.types.predict(x[keep], num_threads=THREADS)
        return out


@cache
def shipped(types: Path = MODEL_PATH, gate: Path = GATE_PATH) -> ElementModel:
    """The shipped model, loaded once per process (about a quarter of a second)."""
    with _lock:
        try:
            import lightgbm

            return ElementModel(
                lightgbm.Booster(model_file=str(gate)), lightgbm.Booster(model_file=str(types))
            )
        except Exception as e:  # ImportError, OSError (libgomp), LightGBMError (a damaged file)
            log.debug("loading the element model failed", exc_info=e)
            raise VisionError(
                f"The sketch reader's element model could not be loaded ({str(e).splitlines()[0]}); "
                "reinstall SeeSay."
            ) from e


def scores(seen: Observation, cands: list[Candidate], model: ElementModel | None = None) -> np.ndarray:
    """Class probabilities, one row per candidate, columns as :data:`CLASSES`."""
    if not cands:
        return np.zeros((0, len(CLASSES)))
    return (model or shipped()).scores(features(seen, cands))


def select(cands: list[Candidate], probs: np.ndarray) -> list[tuple[Candidate, str, float]]:
    """Greedy non-maximum suppression over all types: the candidates most likely to be an
    element (1 - P(none): a box the model cannot decide is a label or a heading is still an
    element) that overlap no likelier one, each with its most likely type."""
    if not len(probs):
        return []
    kind = probs[:, 1:].argmax(1) + 1
    score = 1.0 - probs[:, 0]
    idx = np.nonzero(score >= MIN_SCORE)[0]
    if not len(idx):
        return []
    idx = idx[np.argsort(-score[idx], kind="stable")]
    boxes = np.array([cands[i].box for i in idx])
    overlap = iou_matrix(boxes, boxes)
    held = _share_inside(boxes)  # held[a, b]: the share of box b's area inside box a
    dropped = np.zeros(len(idx), bool)
    out = []
    for k, i in enumerate(idx):
        if dropped[k]:
            continue
        out.append((cands[i], CLASSES[kind[i]], float(score[i])))
        dropped |= overlap[k] > OVERLAP
        dropped |= held[k] > HELD  # the caption of a checkbox, a word of a label
    return out


def _share_inside(boxes: np.ndarray) -> np.ndarray:
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    iw = np.clip(np.minimum(x1[:, None], x1[None]) - np.maximum(x0[:, None], x0[None]), 0, None)
    ih = np.clip(np.minimum(y1[:, None], y1[None]) - np.maximum(y0[:, None], y0[None]), 0, None)
    return iw * ih / np.maximum(boxes[None, :, 2] * boxes[None, :, 3], 1e-9)


def find(seen: Observation, model: ElementModel | None = None) -> list[Node]:
    """The sketch's elements (leaves by the model, containers by the rules), in working pixels."""
    t = time.perf_counter()
    cands = propose(seen)
    picked = select(cands, scores(seen, cands, model))
    seen.timings["elements"] = time.perf_counter() - t
    nodes = [_element(kind, c.box, score, seen) for c, kind, score in picked]
    nodes = _cards_for_groups(nodes)
    nodes += [n for n in seen.rules if n.type in RULE_ONLY]
    navbar_links(nodes, tol=6)
    return nodes


def _element(kind: str, box: tuple[float, float, float, float], score: float, seen: Observation) -> Node:
    x, y, w, h = box
    page_h, page_w = seen.ink.shape
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = min(float(page_w), x + w), min(float(page_h), y + h)
    clipped = [round(x0), round(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0))]
    readings = _readings_in(clipped, seen.texts)
    text = " ".join(t.text for t in readings)
    meta: dict[str, Any] = {"score": round(score, 3)}
    if kind == "paragraph":
        meta["lines"] = max(
            1, sum(1 for s in seen.shapes if s.kind == "hline" and inside(s.box, clipped, tol=6))
        )
    return Node(kind, clipped, text, meta=meta)


def _readings_in(box: list[int], texts: list[Reading]) -> list[Reading]:
    """The OCR readings whose centre lies in ``box``, in reading order (rows, then left to right)."""
    x, y, w, h = box
    inside = [
        t for t in texts if x <= t.box[0] + t.box[2] / 2 <= x + w and y <= t.box[1] + t.box[3] / 2 <= y + h
    ]
    return sorted(inside, key=lambda t: (round((t.box[1] + t.box[3] / 2) / max(t.box[3], 1)), t.box[0]))


def _cards_for_groups(nodes: list[Node]) -> list[Node]:
    """People sometimes mark a block of labels as one heading or paragraph around them. On the
    page that would say every word twice: an element holding two or more others becomes a card
    (a container) instead, and its words stay with the elements inside it."""
    out = []
    for n in nodes:
        held = [
            m
            for m in nodes
            if m is not n and inside(m.bbox, n.bbox, tol=6) and m.type in (*TEXT_TYPES, "button")
        ]
        if n.type in TEXT_TYPES and len(held) >= 2:
            out.append(Node("card", n.bbox, meta={"drawn_as": n.type}))
        else:
            out.append(n)
    return out
