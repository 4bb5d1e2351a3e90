"""The element model: shipped small, rebuilt the same from a seed, and right on real paper."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from seesay.vision import elements, images, training
from seesay.vision.candidates import CLASSES, features, propose
from seesay.vision.sketch import analyse_image, observe

SKETCHES = Path(__file__).resolve().parents[1] / "data" / "sketches"


def test_the_shipped_model_is_small_and_reads_our_features() -> None:
    assert elements.MODEL_PATH.is_file()
    assert elements.MODEL_PATH.stat().st_size <= 20_000_000
    booster = elements._booster()
    assert booster.num_model_per_iteration() == len(CLASSES)
    seen = observe(images.prepare(images.load_image(SKETCHES / "newsletter.jpg")))
    assert booster.num_feature() == features(seen, propose(seen)[:1]).shape[1]


@pytest.mark.slow
def test_the_same_seed_trains_the_same_model() -> None:
    sketches = training.look_generated(2)
    first = training.train(sketches, seed=3).model_to_string()
    assert first == training.train(sketches, seed=3).model_to_string()


@pytest.mark.slow
def test_the_model_reads_a_sketch_in_a_fraction_of_a_second() -> None:
    seen = observe(images.prepare(images.load_image(SKETCHES / "payment-form.jpg")))
    elements.find(seen)  # loaded once per process
    t = time.perf_counter()
    found = elements.find(seen)
    assert found and time.perf_counter() - t < 0.5


@pytest.mark.slow
def test_a_photographed_payment_form_keeps_its_fields() -> None:
    """Two text boxes, two drop-downs (month and year), a small CVV box and two buttons."""
    layout = analyse_image(SKETCHES / "payment-form.jpg")
    kinds = Counter(e.type for e in layout.elements)
    assert kinds["text_input"] >= 3 and kinds["select"] >= 2 and kinds["button"] >= 2, kinds
    assert kinds["paragraph"] == 0, kinds


@pytest.mark.slow
def test_a_photographed_newsletter_keeps_its_picture_box_and_button() -> None:
    layout = analyse_image(SKETCHES / "newsletter.jpg")
    kinds = Counter(e.type for e in layout.elements)
    assert kinds["image"] >= 1 and kinds["text_input"] >= 1 and kinds["button"] >= 1, kinds
    assert kinds["link"] == 0, kinds  # the e-mail box once became a link


def test_a_damaged_model_is_a_clear_error(tmp_path: Path) -> None:
    from seesay.errors import VisionError

    broken = tmp_path / "sketch_elements.txt"
    broken.write_text("not a model\n")
    with pytest.raises(VisionError, match="reinstall SeeSay"):
        elements._booster(broken)
    with pytest.raises(VisionError, match="could not be loaded"):
        elements._booster(tmp_path / "missing.txt")
