"""Model polish for a page from a sketch: the chat model picks a colour theme and writes the
paragraphs' copy as a small JSON object, applied to the same layout tree, so the structure is
kept by construction; an unusable reply keeps the plain page."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from seesay.inference.engine import Message
from seesay.vision.html import DEFAULT_THEME, PageResult, contrast, render_page
from seesay.vision.layout import Layout
from seesay.vision.validation import validate

log = logging.getLogger(__name__)

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def refine(layout: Layout, engine: Any, params: Any = None) -> PageResult:
    """Ask the chat model for a theme and paragraph copy; any unusable reply keeps the plain page."""
    base = render_page(layout)
    paragraphs = [e for e in layout.elements if e.type == "paragraph"]
    outline = "\n".join(f"- {e.type}: {e.text}" if e.text else f"- {e.type}" for e in layout.elements)
    prompt = (
        "A web page was sketched with these elements, top to bottom:\n" + outline + "\n\n"
        f"Write copy for its {len(paragraphs)} paragraph(s) and pick a colour theme. Reply with JSON only:\n"
        '{"theme": {"accent": "#RRGGBB", "background": "#RRGGBB", "text": "#RRGGBB"}, '
        + '"paragraphs": ['
        + ", ".join(['"one or two sentences"'] * len(paragraphs))
        + "]}"
    )
    messages: list[Message] = [
        {"role": "system", "content": "You write concise website copy and answer in JSON."},
        {"role": "user", "content": prompt},
    ]
    try:
        reply = _generate(engine, messages, params)
    except Exception as e:  # the model failing is not the user's problem: keep the page
        log.warning("refinement failed: %s", e)
        return PageResult(base, "layout", [f"model refinement failed ({e}); kept the page from the sketch"])
    patch, why = _parse_patch(reply, len(paragraphs))
    if patch is None:
        return PageResult(base, "layout", [f"model reply unusable ({why}); kept the page from the sketch"])
    page = render_page(layout, theme=patch["theme"], copy=patch["paragraphs"])
    problems = validate(page, layout.labels())
    if problems:
        return PageResult(base, "layout", ["refined page rejected: " + "; ".join(problems)])
    return PageResult(page, "llm", ["copy text and colours from the model"])


def _generate(engine: Any, messages: list[Message], params: Any) -> str:
    from seesay.inference.engine import GenerationParams

    return engine.stream(messages, params or GenerationParams(max_new_tokens=400, temperature=0.3)).text()


def _parse_patch(reply: str, n_paragraphs: int) -> tuple[dict[str, Any] | None, str]:
    m = re.search(r"\{.*\}", reply, re.S)
    if not m:
        return None, "no JSON object"
    try:
        data = json.loads(m.group(0))
    except json.JSONDecodeError:
        return None, "invalid JSON"
    if not isinstance(data, dict):
        return None, "not an object"
    theme_in: dict[str, Any] = data["theme"] if isinstance(data.get("theme"), dict) else {}
    theme = {
        k: v
        for k, v in theme_in.items()
        if k in ("accent", "background", "text") and isinstance(v, str) and _HEX.match(v)
    }
    if "background" in theme or "text" in theme:
        bg, fg = (
            theme.get("background", DEFAULT_THEME["background"]),
            theme.get("text", DEFAULT_THEME["text"]),
        )
        if contrast(bg, fg) < 4.5:
            return None, f"text {fg} on {bg} is unreadable"
        theme["surface"] = bg
    paragraphs = data.get("paragraphs")
    if not isinstance(paragraphs, list) or len(paragraphs) != n_paragraphs:
        return None, "wrong number of paragraphs"
    clean = []
    for p in paragraphs:
        if not isinstance(p, str) or not 10 <= len(p.strip()) <= 600 or re.search(r"[<>]|https?:", p):
            return None, "paragraph text unusable"
        clean.append(p.strip())
    if not theme and not clean:
        return None, "nothing to apply"
    return {"theme": theme, "paragraphs": clean}, ""
