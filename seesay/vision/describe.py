"""Words for what the sketch reader found: the answer about an image when no vision model is set.

With no vision-language model the assistant cannot look at a picture, but the offline
pipeline can say exactly which elements and labels it read, and show the page they make,
which is what a person dropping a wireframe into a conversation (or sending one to the
API) wants to check.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from seesay.config import Settings
from seesay.inference.engine import Stream
from seesay.vision.layout import Layout

NAMES = {
    "navbar": "navigation bar",
    "text_input": "text field",
    "select": "drop-down",
    "image": "image",
    "checkbox": "checkbox",
    "radio": "radio button",
    "heading": "heading",
    "paragraph": "paragraph",
    "button": "button",
    "link": "link",
    "label": "label",
    "footer": "footer",
    "card": "card",
    "list": "list",
    "icon": "icon",
}
MAX_ITEMS = 25


def describe_layout(layout: Layout, name: str) -> str:
    elements = sorted(layout.elements, key=lambda e: (e.bbox[1], e.bbox[0]))
    if not elements:
        return (
            f"I looked at **{name}** but found no drawn page elements: it seems blank, or a photo "
            "without a sketch in it. Wireframes with boxes, lines and written labels work best."
        )
    lines = [
        f"**{name}** ({layout.width}×{layout.height} px) looks like a page sketch with "
        f"{len(elements)} element{'s' if len(elements) != 1 else ''}, from top to bottom:",
        "",
    ]
    for e in elements[:MAX_ITEMS]:
        kind = NAMES.get(e.type, e.type.replace("_", " "))
        lines.append(f"- {kind} “{e.text}”" if e.text else f"- {kind}")
    if len(elements) > MAX_ITEMS:
        lines.append(f"- … and {len(elements) - MAX_ITEMS} more")
    return "\n".join(lines)


def describe_sketch(settings: Settings, image: bytes | Path) -> Stream:
    """The reader's account of ``image`` and the page it builds from it, as one streamed reply
    (the work happens when the stream is iterated, on the caller's worker)."""
    return Stream(lambda stream: _reply(stream, settings, image))


def _reply(stream: Stream, settings: Settings, image: bytes | Path) -> Iterator[str]:
    from seesay.vision.pipeline import sketch_to_page

    result = sketch_to_page(image, settings)
    stream.stats.first_token_at = time.perf_counter()
    name = image.name if isinstance(image, Path) else "The image"
    parts = [describe_layout(result.layout, name)]
    parts += [f"Note: {n}" for n in result.notes[:3]]
    if result.layout.elements:
        parts.append(
            "Here is the page it describes (open the image in the Sketch studio to revise it):"
            "\n\n```html\n" + result.html.strip() + "\n```"
        )
    text = "\n\n".join(parts)
    stream.stats.completion_tokens = max(1, len(text) // 4)  # approximate: no tokenizer on this path
    stream.stats.finish_reason = "stop"
    for line in text.splitlines(keepends=True):
        if stream.cancelled:
            stream.stats.finish_reason = "cancelled"
            return
        yield line
