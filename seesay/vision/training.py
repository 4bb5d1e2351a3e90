"""Train the element model (:mod:`seesay.vision.elements`) from labelled and generated sketches.

    python -m seesay.vision.training DIR [--synthetic N] [--out FILE] [--seed S]

``DIR`` holds labelled photographs (the format :mod:`seesay.vision.realset` reads). Generated
sketches (:mod:`seesay.vision.evalset`) are added so that clean drawings stay well read.
Every candidate of every sketch is one example: its type is that of the labelled element it
overlaps most with IoU >= 0.5, else "none". Most candidates are "none": the gate (element or
not) learns from half of them, the type model from a quarter, weighted down. Both samples
and both models follow one seed; the same seed gives the same models.

:func:`cross_validate` is what ``seesay bench sketch --real DIR`` reports: each labelled
sketch is scored by a model trained without it (k folds by sketch, never by element), so
the figures say how the reader does on drawings it has not seen.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from seesay.vision import images
from seesay.vision.candidates import CLASSES, features, iou_matrix, propose
from seesay.vision.elements import ElementModel
from seesay.vision.realset import RealSketch, load
from seesay.vision.sketch import Observation, observe

log = logging.getLogger(__name__)

GENERATED = 40  # generated sketches trained on beside the labelled ones
NEGATIVE_SHARE = 0.25  # of the "none" candidates kept for training the type model
NEGATIVE_WEIGHT = 0.4
ROUNDS = 250
GATE_ROUNDS = 60
GATE_NEGATIVE_SHARE = 0.5
PARAMS: dict[str, Any] = {
    "objective": "multiclass",
    "num_class": len(CLASSES),
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 10,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbose": -1,
}


@dataclass
class Seen:
    """One sketch as the model sees it: the observation, its transform, and (for training)
    its labelled elements in working pixels."""

    id: str
    seen: Observation
    prepared: images.Prepared
    truth: list[tuple[str, tuple[float, float, float, float]]]
    seconds: float  # time to load, clean and observe it

    def examples(self) -> tuple[np.ndarray, np.ndarray]:
        cands = propose(self.seen)
        x = features(self.seen, cands)
        if not self.truth or not cands:
            return x, np.zeros(len(cands), np.int32)
        overlap = iou_matrix(np.array([c.box for c in cands]), np.array([b for _, b in self.truth]))
        best = overlap.argmax(1)
        kinds = np.array([CLASSES.index(t) for t, _ in self.truth])
        y = np.where(overlap.max(1) >= 0.5, kinds[best], 0).astype(np.int32)
        return x, y


def look(sid: str, source: Any, truth: Sequence[tuple[str, Sequence[float]]]) -> Seen:
    """Observe one sketch; ``truth`` boxes are in input pixels and are mapped like the image."""
    t = time.perf_counter()
    prepared = images.prepare(images.load_image(source))
    seen = observe(prepared)
    seconds = time.perf_counter() - t
    work = []
    for kind, (x, y, w, h) in truth:
        if kind not in CLASSES:
            continue
        corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
        q = cv2.perspectiveTransform(corners[None], prepared.to_work)[0]
        (x0, y0), (x1, y1) = q.min(0), q.max(0)
        work.append((kind, (float(x0), float(y0), float(x1 - x0), float(y1 - y0))))
    return Seen(sid, seen, prepared, work, seconds)


def look_real(sketches: Sequence[RealSketch]) -> list[Seen]:
    """Observe labelled photographs (:func:`seesay.vision.realset.load`)."""
    out = []
    for s in sketches:
        data = s.image.read_bytes()
        sx, sy = _input_scale(data, s.width, s.height)
        truth = [(e["type"], [x * sx, y * sy, w * sx, h * sy]) for e in s.truth for x, y, w, h in [e["bbox"]]]
        out.append(look(s.id, data, truth))
    return out


def _input_scale(data: bytes, width: int, height: int) -> tuple[float, float]:
    """Annotation pixels to the image's own (they differ when an image was resized after labelling)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.width / width, im.height / height


def look_generated(count: int) -> list[Seen]:
    from seesay.vision import evalset

    out = []
    for i in range(count):
        sample = evalset.sample(1000 + i)  # not the bench's own samples (0, 1, 2, ...)
        truth = [(e["type"], e["bbox"]) for e in sample.elements]
        out.append(look(sample.id, _encoded(sample.image, photo=sample.suffix == "jpg"), truth))
    return out


def _encoded(image: Any, photo: bool) -> bytes:
    """The bytes a user would drop: photographs as JPEG, drawings as PNG."""
    import io

    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG" if photo else "PNG", quality=90)
    return buf.getvalue()


def train(sketches: Sequence[Seen], seed: int = 0) -> ElementModel:
    """The gate (element or not, on half the "none" candidates) and the type model (on a
    quarter of them, weighted down), both from ``seed``."""
    import lightgbm

    examples = [s.examples() for s in sketches]

    def sample(share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for x, y in examples:
            keep = (y > 0) | (rng.random(len(y)) < share)
            xs.append(x[keep])
            ys.append(y[keep])
        return np.vstack(xs), np.concatenate(ys)

    x, y = sample(GATE_NEGATIVE_SHARE, np.random.default_rng(seed))
    gate_params = {k: v for k, v in PARAMS.items() if k != "num_class"}
    gate_params |= {"objective": "binary", "learning_rate": 0.1, "num_leaves": 15, "seed": seed}
    gate = lightgbm.train(gate_params, lightgbm.Dataset(x, (y > 0).astype(np.int32)), GATE_ROUNDS)
    x, y = sample(NEGATIVE_SHARE, np.random.default_rng(seed + 1))
    weight = np.where(y == 0, NEGATIVE_WEIGHT, 1.0)
    types = lightgbm.train({**PARAMS, "seed": seed}, lightgbm.Dataset(x, y, weight=weight), ROUNDS)
    return ElementModel(gate, types)


def folds(ids: Sequence[str], k: int, seed: int = 0) -> list[set[str]]:
    order = np.random.default_rng(seed).permutation(len(ids))
    return [{ids[i] for i in order[j::k]} for j in range(k)]


def cross_validate(
    labelled: Sequence[Seen], extra: Sequence[Seen], k: int = 5, seed: int = 0
) -> dict[str, ElementModel]:
    """A model per fold, trained on the other folds and ``extra``: {sketch id: that model}."""
    models: dict[str, ElementModel] = {}
    for held in folds([s.id for s in labelled], k, seed):
        model = train([s for s in labelled if s.id not in held] + list(extra), seed)
        models.update(dict.fromkeys(held, model))
    return models


def main(argv: Sequence[str] | None = None, say: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m seesay.vision.training", description=__doc__.split("\n")[0]
    )
    parser.add_argument("directory", type=Path, help="labelled photographs (annotations.json and images/)")
    parser.add_argument("--synthetic", type=int, default=GENERATED, help="generated sketches to add")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the type model, its gate beside it as sketch_candidates.txt "
        "(default: the package's)",
    )
    args = parser.parse_args(argv)
    from seesay.vision.elements import GATE_PATH, MODEL_PATH

    t = time.perf_counter()
    sketches = look_real(load(args.directory)) + look_generated(args.synthetic)
    say(f"observed {len(sketches)} sketches in {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    model = train(sketches, args.seed)
    out = args.out or MODEL_PATH
    gate = out.with_name(GATE_PATH.name) if args.out else GATE_PATH
    model.types.save_model(str(out))
    model.gate.save_model(str(gate))
    size = (out.stat().st_size + gate.stat().st_size) / 1e6
    say(f"trained in {time.perf_counter() - t:.0f} s: {out} and {gate.name} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
