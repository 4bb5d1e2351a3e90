"""Scores for the analyser against ground truth: what a sketch bench reports.

Matching is one-to-one and greedy by IoU (best pairs first), so one big detection
cannot take credit for several true elements. Two views are reported: *typed*
(a detection counts only with the right ``type``) and *located* (any type), because
"found the thing but called it a label" and "missed it" are different bugs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Any

IOU_MATCH = 0.4


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def extent(boxes: Sequence[Sequence[float]]) -> tuple[float, float, float, float] | None:
    """The box (x, y, w, h) around every box of positive size, or None when there is none."""
    boxes = [b for b in boxes if b[2] > 0 and b[3] > 0]
    if not boxes:
        return None
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]", "", text.lower())).strip()


def match(
    pred: list[dict[str, Any]], truth: list[dict[str, Any]], typed: bool, threshold: float = IOU_MATCH
) -> list[tuple[int, int]]:
    pairs = []
    for i, p in enumerate(pred):
        for j, t in enumerate(truth):
            if typed and p["type"] != t["type"]:
                continue
            score = iou(p["bbox"], t["bbox"])
            if score >= threshold:
                pairs.append((score, i, j))
    used_p, used_t, out = set(), set(), []
    for _, i, j in sorted(pairs, reverse=True):
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            out.append((i, j))
    return out


def score(pred: list[dict[str, Any]], truth: list[dict[str, Any]]) -> dict[str, Any]:
    """Precision/recall (typed and located) and label accuracy over the true labelled elements."""
    typed = match(pred, truth, typed=True)
    located = match(pred, truth, typed=False)
    labelled = [j for j, t in enumerate(truth) if t.get("text")]
    by_truth = dict((j, i) for i, j in located)
    correct, similarity = 0, 0.0
    for j in labelled:
        i = by_truth.get(j)
        if i is None:
            continue
        a, b = normalise(pred[i].get("text", "")), normalise(truth[j]["text"])
        correct += a == b
        similarity += SequenceMatcher(None, a, b).ratio()
    n_p, n_t = max(len(pred), 1), max(len(truth), 1)
    return {
        "precision": len(typed) / n_p,
        "recall": len(typed) / n_t,
        "located_precision": len(located) / n_p,
        "located_recall": len(located) / n_t,
        "label_accuracy": correct / max(len(labelled), 1),
        "label_similarity": similarity / max(len(labelled), 1),
        "truth": len(truth),
        "predicted": len(pred),
        "missed": [
            truth[j]["type"] + (":" + truth[j]["text"] if truth[j].get("text") else "")
            for j in range(len(truth))
            if j not in {j for _, j in typed}
        ],
        "extra": [
            pred[i]["type"] + (":" + pred[i]["text"] if pred[i].get("text") else "")
            for i in range(len(pred))
            if i not in {i for i, _ in typed}
        ],
    }
