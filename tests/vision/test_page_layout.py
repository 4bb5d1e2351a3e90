"""Layout fidelity: pages keep the drawing's alignment, proportions and (only) its text."""

from __future__ import annotations

import re

import pytest

from seesay.vision import compare, evalset, safety
from seesay.vision import html as page_html
from seesay.vision.bench import truth_layout
from seesay.vision.layout import Layout, Node
from seesay.vision.layout_tree import build_tree

needs_chromium = pytest.mark.skipif(compare.chromium() is None, reason="needs a Chromium binary")


def _layout(nodes: list[Node], width: int = 1200, height: int = 900) -> Layout:
    return Layout(build_tree(nodes, (0, 0, width, height)), width, height)


def _newsletter(x_of: dict[str, int] | None = None) -> Layout:
    """Heading, envelope drawing, e-mail box and button, each centred on an 1100-wide sheet
    unless ``x_of`` moves them; the photo's margins (50 px) are not part of the drawing."""
    x = x_of or {}
    return _layout(
        [
            Node("heading", [x.get("heading", 400), 60, 300, 50], "Stay in touch"),
            Node("image", [x.get("image", 450), 150, 200, 140]),
            Node("text_input", [x.get("text_input", 325), 330, 450, 50], "Your e-mail"),
            Node("button", [x.get("button", 475), 410, 150, 50], "Subscribe"),
            Node("divider", [50, 500, 1000, 4]),  # the drawn content area: 50..1050
        ]
    )


def _blocks(layout: Layout) -> dict[str, dict[str, float]]:
    got = compare.render_blocks(page_html.render_page(layout))
    return {b["kind"]: b for b in got["blocks"]}


def _centre(b: dict[str, float]) -> float:
    return b["x"] + b["w"] / 2


@needs_chromium
def test_a_page_drawn_centred_renders_centred() -> None:
    blocks = _blocks(_newsletter())
    middle = _centre(blocks["divider"])
    for kind in ("heading", "image", "text_input", "button"):
        assert abs(_centre(blocks[kind]) - middle) < 0.03 * blocks["divider"]["w"], kind


@needs_chromium
def test_a_page_drawn_on_the_left_stays_left_and_right_stays_right() -> None:
    blocks = _blocks(_newsletter({"heading": 50, "image": 50, "text_input": 50, "button": 900}))
    left, width = blocks["divider"]["x"], blocks["divider"]["w"]
    for kind in ("heading", "image", "text_input"):
        assert blocks[kind]["x"] - left < 0.03 * width, kind
    right = blocks["button"]["x"] + blocks["button"]["w"]
    assert left + width - right < 0.03 * width


@needs_chromium
def test_widths_and_image_size_follow_the_drawing() -> None:
    blocks = _blocks(_newsletter())
    width = blocks["divider"]["w"]
    assert blocks["text_input"]["w"] / width == pytest.approx(450 / 1000, abs=0.03)
    image = blocks["image"]
    assert image["w"] / width == pytest.approx(200 / 1000, abs=0.03)
    assert image["w"] / image["h"] == pytest.approx(200 / 140, rel=0.05)
    assert blocks["button"]["w"] / width >= 150 / 1000 - 0.01  # at least as wide as drawn


def test_alignment_tolerates_hand_drawing() -> None:
    frame = (100.0, 0.0, 1000.0, 800.0)
    assert page_html.alignment([420, 0, 300, 40], frame) == "center"  # 320 left, 380 right
    assert page_html.alignment([110, 0, 300, 40], frame) == "left"
    assert page_html.alignment([780, 0, 300, 40], frame) == "right"
    assert page_html.alignment([120, 0, 960, 40], frame) == "stretch"


def test_a_tall_input_becomes_a_text_area() -> None:
    page = page_html.render_page(
        _layout(
            [
                Node("text_input", [50, 100, 500, 50], "Name"),
                Node("text_input", [50, 200, 500, 200], "Message"),
            ]
        )
    )
    assert page.count('data-kind="text_input"') == 2
    area = re.search(r"<textarea[^>]*>", page)
    assert area and 'placeholder="Message"' in area.group(0)
    rows = re.search(r'rows="(\d+)"', area.group(0))
    assert rows and int(rows.group(1)) >= 4


def _visible_words(page: str) -> set[str]:
    _, _, text = safety.scan(page)
    return set(re.findall(r"[a-z]+", text.lower()))


def test_no_invented_copy() -> None:
    layout = _layout(
        [
            Node("heading", [50, 40, 400, 50], "Payment"),
            Node("label", [50, 120, 200, 30], "Expiry date"),
            Node("text_input", [50, 160, 400, 50]),
            Node("paragraph", [50, 240, 600, 90], meta={"lines": 3}),
            Node("button", [50, 360, 160, 50]),
        ]
    )
    page = page_html.render_page(layout)
    drawn = {w for label in layout.labels() for w in re.findall(r"[a-z]+", label.lower())}
    assert _visible_words(page) - drawn <= {"button"}  # the title repeats the heading
    assert "A few words" not in page and "Continue" not in page
    para = re.search(r'<p class="text placeholder"[^>]*>.*?</p>', page, re.S)
    assert para and 'aria-label="placeholder text' in para.group(0)
    assert para.group(0).count('class="ph-line"') == 3  # one bar per drawn line
    assert re.search(r'<button[^>]*class="button placeholder"[^>]*>Button</button>', page)


def test_read_text_and_model_copy_replace_the_placeholder() -> None:
    read = _layout([Node("paragraph", [50, 40, 600, 60], "Cards are charged monthly.")])
    page = page_html.render_page(read)
    assert "Cards are charged monthly." in page and "placeholder" not in page.split("</style>")[1]
    blank = _layout([Node("paragraph", [50, 40, 600, 60])])
    copied = page_html.render_page(blank, copy=["Fast checkout with no account needed."])
    assert "Fast checkout with no account needed." in copied
    assert 'class="ph-line"' not in copied


def test_layout_similarity_is_perfect_for_identical_boxes() -> None:
    layout = truth_layout(evalset.make("form", "clean", seed=1))
    blocks = {
        "blocks": [
            {"kind": e.type, "x": e.bbox[0] * 2, "y": e.bbox[1] * 2, "w": e.bbox[2] * 2, "h": e.bbox[3] * 2}
            for e in layout.elements
        ]
    }
    assert compare.layout_similarity(layout, blocks) == pytest.approx(1.0)
    assert compare.layout_similarity(layout, {"blocks": []}) == 0.0


@needs_chromium
def test_layout_similarity_prefers_the_faithful_page() -> None:
    layout = truth_layout(evalset.make("form", "clean", seed=1))
    faithful = compare.render_blocks(page_html.render_page(layout))
    # the same elements, drawn mirrored and upside down: a page that ignores the drawing
    scrambled = _layout(
        [
            Node(
                e.type,
                [layout.width - e.bbox[0] - e.bbox[2], layout.height - e.bbox[1] - e.bbox[3], *e.bbox[2:]],
            )
            for e in layout.elements
        ],
        layout.width,
        layout.height,
    )
    assert compare.layout_similarity(layout, faithful) > compare.layout_similarity(scrambled, faithful) + 0.1


def test_kept_drawn_heights_are_shares_of_the_page_column() -> None:
    layout = _newsletter()
    natural = page_html.render_page(layout)
    assert "min-height" not in natural.split("</style>")[1]
    kept = page_html.render_page(layout, proportions=page_html.Proportions(gaps=1.0, heights=1.0))
    # the image box, 140 drawn px high on a 1000 px wide drawing: 14 % of the column's width
    assert re.search(r'data-kind="image"[^>]*min-height: 14\.00cqw', kept)
    assert "container-type: inline-size" in kept


@needs_chromium
def test_render_compare_adjust_keeps_the_closest_page() -> None:
    layout = truth_layout(evalset.make("form", "rotated", seed=4))
    fitted = compare.fit(layout)
    assert 2 <= len(fitted.tries) <= compare.FIT_ROUNDS  # it adjusted at least once
    assert fitted.score == max(score for _, score in fitted.tries) >= fitted.first
    assert fitted.score == pytest.approx(
        compare.layout_similarity(layout, compare.render_blocks(fitted.page)), abs=1e-6
    )
