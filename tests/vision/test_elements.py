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
    assert elements.MODEL_PATH.stat().st_size + elements.GATE_PATH.stat().st_size <= 20_000_000
    model = elements.shipped()
    assert model.types.num_model_per_iteration() == len(CLASSES)
    assert model.gate.num_model_per_iteration() == 1
    seen = observe(images.prepare(images.load_image(SKETCHES / "newsletter.jpg")))
    width = features(seen, propose(seen)[:1]).shape[1]
    assert model.types.num_feature() == model.gate.num_feature() == width


@pytest.mark.slow
def test_the_same_seed_trains_the_same_model() -> None:
    sketches = training.look_generated(2)
    first, again = training.train(sketches, seed=3), training.train(sketches, seed=3)
    assert first.types.model_to_string() == again.types.model_to_string()
    assert first.gate.model_to_string() == again.gate.model_to_string()


@pytest.mark.slow
def test_the_model_reads_a_sketch_in_a_fraction_of_a_second() -> None:
    seen = observe(images.prepare(images.load_image(SKETCHES / "payment-form.jpg")))
    elements.find(seen)  # loaded once per process
    t = time.perf_counter()
    found = elements.find(seen)
    assert found and time.perf_counter() - t < 0.3  # about 0.08 s on two idle cores


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
        elements.shipped(broken, elements.GATE_PATH)
    with pytest.raises(VisionError, match="could not be loaded"):
        elements.shipped(elements.MODEL_PATH, tmp_path / "missing.txt")
