"""Reading the writing on a sketch: the bundled PP-OCR models, then spelling correction.

Each reading is tightened to the ink it covers (OCR boxes are loose), and kept twice: as
read (``raw``) and corrected against English and Spanish word lists
(:mod:`seesay.vision.spelling`), with the OCR's confidence beside it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from seesay.vision.layout import LEAF_TYPES, Box, Node
from seesay.vision.strokes import inside

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
class Reading:
    box: Box
    text: str  # spelling-corrected (seesay.vision.spelling)
    score: float  # the OCR's confidence
    used: bool = False
    raw: str = ""  # what the OCR read, before correction


def correct_spelling(texts: list[Reading]) -> None:
    """Correct every reading of one sketch at once: the sketch's language weighs the choice."""
    from seesay.vision import spelling

    for t, c in zip(texts, spelling.correct_texts([t.text for t in texts]), strict=True):
        t.raw, t.text = t.text, c.text


def attach_readings(nodes: list[Node], texts: list[Reading]) -> None:
    """Keep, beside each element's corrected text, the raw readings it came from (in reading
    order) and the lowest OCR confidence among them: the layout JSON shows what was guessed."""
    for n in nodes:
        if not n.text or n.type not in LEAF_TYPES:
            continue
        box = (float(n.bbox[0]), float(n.bbox[1]), float(n.bbox[2]), float(n.bbox[3]))
        held = sorted(
            (t for t in texts if t.text and t.text in n.text and inside(t.box, box, tol=6)),
            key=lambda t: (t.box[1], t.box[0]),
        )
        if held:
            n.meta["raw"] = " ".join(t.raw or t.text for t in held)
            n.meta["confidence"] = round(min(t.score for t in held), 3)


_JUNK = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9.!?%)]+$")


def _clean_text(s: str) -> str:
    s = "".join(ch for ch in unicodedata.normalize("NFKD", s) if ch.isascii())
    s = re.sub(r"\s+", " ", s)
    return _JUNK.sub("", s).strip()


def read_text(gray: np.ndarray, ink: np.ndarray) -> list[Reading]:
    """OCR ``gray``; each result is tightened to the ink inside its quadrilateral."""
    result = ocr_engine()(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), return_word_box=True)
    out: list[Reading] = []
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


def _add_reading(out: list[Reading], ink: np.ndarray, quad: np.ndarray, raw: str, score: float) -> None:
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
    out.append(Reading(tuple(float(v) for v in box), text, float(score)))  # type: ignore[arg-type]
