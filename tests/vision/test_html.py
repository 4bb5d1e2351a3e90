"""Page generation: valid self-contained HTML, validated model output, sealed saved pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from seesay.vision import evalset, refine, safety, validation
from seesay.vision import html as page_html
from seesay.vision.bench import truth_layout
from seesay.vision.layout import Layout


@pytest.fixture
def layout() -> Layout:
    return truth_layout(evalset.make("form", "clean", seed=1))


def test_page_is_valid_self_contained_html(layout: Layout) -> None:
    page = page_html.render_page(layout)
    problems, tags, text = safety.scan(page)
    assert problems == []
    assert page.startswith("<!DOCTYPE html>") and "viewport" in page and "@media" in page
    for tag in ("main", "h1", "input", "select", "button", "label"):
        assert tag in tags
    for label in layout.labels():
        assert label in text or f'placeholder="{label}"' in page
    assert "http" not in page and "<script" not in page
    assert validation.validate(page, layout.labels()) == []


def test_labels_are_tied_to_their_inputs(layout: Layout) -> None:
    page = page_html.render_page(layout)
    fors = [a for a in page.split('for="')[1:]]
    assert fors and all(f'id="{f.split(chr(34))[0]}"' in page for f in fors)


@pytest.mark.parametrize(
    "bad",
    [
        '<html><body><img src="https://example.com/x.png"></body></html>',
        "<html><body><script>fetch('http://127.0.0.1:9/')</script></body></html>",
        '<html><head><style>@import "http://x/y.css";</style></head><body></body></html>',
        '<html><body><iframe src="file:///etc/passwd"></iframe></body></html>',
    ],
)
def test_validation_rejects_external_resources(bad: str) -> None:
    assert validation.validate(bad)


def test_validation_rejects_pages_that_drop_labels(layout: Layout) -> None:
    page = page_html.render_page(layout)
    assert "Remember me" in layout.labels()
    assert validation.validate(page.replace("Remember me", "Lorem"), layout.labels())


def test_extract_html_from_a_chatty_reply() -> None:
    reply = "Sure! Here it is:\n```html\n<!DOCTYPE html><html><body><p>Hi</p></body></html>\n```\nEnjoy."
    assert validation.extract_html(reply) == "<!DOCTYPE html><html><body><p>Hi</p></body></html>"
    assert validation.extract_html("no page here") is None


class _FakeStream:
    def __init__(self, text: str) -> None:
        self._text = text

    def text(self) -> str:
        return self._text


class _ScriptedEngine:
    """A stand-in at the engine edge: returns a fixed reply (a capable model's, or a bad one)."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def stream(self, messages: Any, params: Any = None) -> _FakeStream:
        return _FakeStream(self.reply)


def test_refinement_applies_a_good_json_reply(layout: Layout) -> None:
    n = sum(e.type == "paragraph" for e in layout.elements)
    reply = (
        '{"theme": {"accent": "#0d9488", "background": "#ffffff", "text": "#111111"}, '
        '"paragraphs": [' + ", ".join(['"Fast checkout with no account needed."'] * n) + "]}"
    )
    result = refine.refine(layout, _ScriptedEngine(reply))
    assert result.source == "llm" and "#0d9488" in result.html
    assert "Fast checkout with no account needed." in result.html


@pytest.mark.parametrize(
    "reply",
    [
        "I cannot do that.",
        '{"theme": {"background": "#ffffff", "text": "#fefefe"}, "paragraphs": ["Readable? No."]}',
        '{"paragraphs": ["<script>fetch(1)</script> sneaky text here"]}',
    ],
)
def test_refinement_falls_back_on_bad_replies(layout: Layout, reply: str) -> None:
    result = refine.refine(layout, _ScriptedEngine(reply))
    assert result.source == "layout" and result.html == page_html.render_page(layout)


@pytest.mark.slow
def test_tiny_random_model_cannot_make_the_page_worse(layout: Layout, tiny_model_dir: Path) -> None:
    from seesay.config import Settings
    from seesay.inference import create_engine
    from seesay.inference.engine import GenerationParams
    from seesay.vision.revision import apply_instruction

    engine = create_engine(Settings().replace({"model.name": str(tiny_model_dir)}))
    params = GenerationParams(max_new_tokens=48, temperature=0.0)
    refined = refine.refine(layout, engine, params)
    assert refined.source == "layout" and refined.html == page_html.render_page(layout)
    revised = apply_instruction(refined.html, "make the header dark blue and write a tagline", engine, params)
    assert revised.source == "rules"  # garbage from the model was rejected; the rule edit stands
    assert "#1e3a8a" in revised.html and "tagline" not in revised.html
    assert revised.notes[0] == "Added a header (the page had none) and made it dark blue."
    assert "“write a tagline” is not applied" in revised.notes[1]


def test_saved_page_is_sealed() -> None:
    saved = safety.for_saving("<!DOCTYPE html><html><head><title>x</title></head><body></body></html>")
    assert saved.index("Made with SeeSay") < saved.index("<html")
    assert "default-src 'none'" in saved and "connect-src 'none'" in saved
    assert 'sandbox="allow-scripts"' in saved and "allow-same-origin" not in saved
    assert safety.for_saving(saved) == saved


def parsed(page: str) -> Any:
    from selectolax.lexbor import LexborHTMLParser

    return LexborHTMLParser(page.removeprefix("\ufeff"))


@pytest.mark.parametrize(
    "page",
    [
        # <header> is not <head>: the head is implicit, and opens before the header.
        "<header><h1>Hi</h1></header><p>x</p>",
        "<!DOCTYPE html><header>x</header><head><title>t</title></head>",
        # our CSP's text (or <head>) in a comment is only a comment
        f"<!DOCTYPE html><html><head><!-- {safety.CSP_META} --><title>t</title>",
        "<!DOCTYPE html><html><!-- <head> --><body><p>x</p>",
        # "<!-->" is a whole (empty) comment: what follows it is markup
        "<!DOCTYPE html><!--><img src=x>--><html><head>",
        '<!doctype html>\n<html lang="a>b">\n<head>\n<title>t</title>',
        "\ufeff<!DOCTYPE html><HTML><HEAD PROFILE=x><TITLE>t</TITLE>",
        # a page's own (weaker) CSP comes after ours; policies only ever narrow each other
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src *">',
        "<!DOCTYPE html><html/lang=en><head>",
        "<?xml version='1.0'?><html><head>",
        "<script>document.write('<head>')</script><p>x",
        "",
    ],
    ids=[
        "header-first",
        "header-before-head",
        "csp-text-in-comment",
        "head-in-comment",
        "abrupt-comment",
        "quoted-angle",
        "bom-uppercase",
        "own-weaker-csp",
        "odd-html-tag",
        "processing-instruction",
        "script-first",
        "empty",
    ],
)
def test_csp_goes_first_in_the_real_head(page: str) -> None:
    sealed = safety.with_csp(page)
    first = next(parsed(sealed).head.iter(include_text=True, skip_empty=True))
    assert first.tag == "meta" and first.attributes == {
        "http-equiv": "Content-Security-Policy",
        "content": safety.CSP,
    }
    # the page itself is untouched: the same body, and the same head after ours
    assert parsed(sealed).body.html == parsed(page).body.html
    rest = [n.html for n in parsed(sealed).head.iter(include_text=True)][1:]
    assert rest == [n.html for n in parsed(page).head.iter(include_text=True)]
    assert safety.with_csp(sealed) == sealed  # sealing twice changes nothing


def test_pages_for_other_browsers_carry_the_webrtc_guard() -> None:
    page = "<!DOCTYPE html><html><head><title>t</title></head><body><p>x</p></body></html>"
    sealed = safety.sealed(page)
    csp, prefetch, guard, title = list(parsed(sealed).head.iter())
    assert csp.attributes["http-equiv"] == "Content-Security-Policy"
    assert prefetch.attributes == {"http-equiv": "x-dns-prefetch-control", "content": "off"}
    assert guard.tag == "script" and "RTCPeerConnection" in guard.text() and title.tag == "title"
    assert safety.sealed(sealed) == sealed
