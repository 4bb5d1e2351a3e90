"""``seesay bench sketch --real DIR``: the reader scored on photographed sketches labelled by people.

The folder holds ``annotations.json`` (a list of ``{id, width, height, regions}``, each region a
``tagName`` with ``left``, ``top``, ``width``, ``height`` as fractions of the image) and
``images/<id>.jpg`` (or ``.png``): the format of the Sketch2Code collection. An element counts
as *found* when a predicted box overlaps its region with IoU >= 0.5, and as *typed* when that
box (each used once) also has its type. Precision is typed matches over all predicted
elements: an element the people did not label counts against it.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seesay.config import Settings
from seesay.errors import InputError
from seesay.vision import metrics
from seesay.vision.layout import Layout
from seesay.vision.sketch import analyse_image, compose

IOU = 0.5  # how much a predicted box must overlap a labelled one to count (as the labels' own benchmark)
TAGS = {
    "Label": "label",
    "Heading": "heading",
    "CheckBox": "checkbox",
    "Image": "image",
    "Button": "button",
    "Paragraph": "paragraph",
    "TextBox": "text_input",
    "RadioButton": "radio",
    "ComboBox": "select",
    "Link": "link",
}


@dataclass(frozen=True)
class RealSketch:
    id: str
    image: Path
    width: int
    height: int
    truth: list[dict[str, Any]]  # {"type", "bbox"} in the annotation's pixels


def load(directory: Path) -> list[RealSketch]:
    """The labelled sketches in ``directory``, with a specific error for what is wrong with it."""
    listing = directory / "annotations.json"
    if not listing.is_file():
        raise InputError(f"{directory} has no annotations.json (a folder of labelled sketches).")
    try:
        entries = json.loads(listing.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"Cannot read {listing}: {err}") from None
    if not isinstance(entries, list):
        raise InputError(f"{listing} should hold a list of sketches.")
    out = []
    for e in entries:
        try:
            sid, width, height = str(e["id"]), int(e["width"]), int(e["height"])
            truth = [
                {
                    "type": TAGS[r["tagName"]],
                    "bbox": [r["left"] * width, r["top"] * height, r["width"] * width, r["height"] * height],
                }
                for r in e["regions"]
            ]
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(f"{listing}: an entry lacks or mislabels {err}.") from None
        image = next(
            (p for p in (directory / "images" / f"{sid}{s}" for s in (".jpg", ".png")) if p.is_file()), None
        )
        if image is None:
            raise InputError(f"{directory / 'images'} has no image for sketch {sid}.")
        out.append(RealSketch(sid, image, width, height, truth))
    if not out:
        raise InputError(f"{listing} lists no sketches.")
    return out


def bench_real(
    settings: Settings, directory: Path, count: int | None = None, folds: int = 5
) -> dict[str, Any]:
    """Score the reader on ``directory``. With ``folds`` (k >= 2) each sketch is read by an element
    model trained without it (:func:`seesay.vision.training.cross_validate`, plus generated
    sketches); with 0, by the shipped model, which may have been trained on these very sketches."""
    sketches = load(directory)[:count]
    if folds:
        results = _cross_validated(sketches, folds)
    else:
        results = []
        for s in sketches:
            t = time.perf_counter()
            layout = analyse_image(
                s.image, max_pixels=settings.vision.max_image_pixels, max_side=settings.vision.max_side
            )
            results.append((layout, time.perf_counter() - t))
    per_type: dict[str, dict[str, int]] = {t: {"count": 0, "found": 0, "typed": 0} for t in TAGS.values()}
    truth_n = found_n = typed_n = predicted_n = 0
    per_image = []
    for s, (layout, _seconds) in zip(sketches, results, strict=True):
        sx, sy = s.width / layout.width, s.height / layout.height
        pred = [
            {"type": e.type, "bbox": [e.bbox[0] * sx, e.bbox[1] * sy, e.bbox[2] * sx, e.bbox[3] * sy]}
            for e in layout.elements
        ]
        located = {j for _, j in metrics.match(pred, s.truth, typed=False, threshold=IOU)}
        typed = {j for _, j in metrics.match(pred, s.truth, typed=True, threshold=IOU)}
        for j, el in enumerate(s.truth):
            row = per_type[el["type"]]
            row["count"] += 1
            row["found"] += j in located
            row["typed"] += j in typed
        truth_n += len(s.truth)
        found_n += len(located)
        typed_n += len(typed)
        predicted_n += len(pred)
        per_image.append(
            {
                "id": s.id,
                "truth": len(s.truth),
                "found": len(located),
                "typed": len(typed),
                "predicted": len(pred),
            }
        )
    return {
        "sketches": len(sketches),
        "elements": truth_n,
        "cross_validated_folds": folds or None,
        "recall": round(found_n / max(truth_n, 1), 3),
        "typed_recall": round(typed_n / max(truth_n, 1), 3),
        "precision": round(typed_n / max(predicted_n, 1), 3),
        "seconds_per_sketch": round(statistics.fmean(sec for _, sec in results), 3),
        # the element model's part: candidates, their features, the gate and the type model
        "model_ms_per_sketch": round(
            1000 * statistics.fmean(layout.timings.get("elements", 0.0) for layout, _ in results), 1
        ),
        "per_type": {
            t: {
                "count": r["count"],
                "found": round(r["found"] / r["count"], 3) if r["count"] else None,
                "typed": round(r["typed"] / r["count"], 3) if r["count"] else None,
            }
            for t, r in per_type.items()
        },
        "targets": {
            "recall": 0.85,
            "typed_recall": 0.75,
            "precision": 0.75,
            "seconds_per_sketch": 3.0,
            "model_ms_per_sketch": 100,
        },
        "per_image": per_image,
    }


def _cross_validated(sketches: list[RealSketch], folds: int) -> list[tuple[Layout, float]]:
    from seesay.vision import training

    if folds < 2:
        raise InputError(f"--folds must be 0 (the shipped model) or at least 2, got {folds}.")
    labelled = training.look_real(sketches)
    if len(labelled) < folds:
        raise InputError(f"{len(labelled)} sketches cannot be split into {folds} folds.")
    models = training.cross_validate(labelled, training.look_generated(training.GENERATED), folds)
    out = []
    for s in labelled:
        layout = compose(s.seen, s.prepared, models[s.id])
        out.append((layout, s.seconds + layout.timings["classify"]))
    return out
