"""Words for what the sketch reader found: the chat's answer about a dropped image.

With no vision-language model the assistant cannot look at a picture, but the offline
pipeline can say exactly which elements and labels it read, which is what a person
dropping a wireframe into a conversation wants to check.
"""

from __future__ import annotations

from seesay.vision.sketch import Layout

NAMES = {
    "navbar": "navigation bar", "text_input": "text field", "select": "drop-down", "image": "image",
    "checkbox": "checkbox", "radio": "radio button", "heading": "heading", "paragraph": "paragraph",
    "button": "button", "link": "link", "label": "label", "footer": "footer", "card": "card",
    "list": "list", "icon": "icon",
}
MAX_ITEMS = 25


def describe_layout(layout: Layout, name: str) -> str:
    elements = sorted(layout.elements, key=lambda e: (e.bbox[1], e.bbox[0]))
    if not elements:
        return (f"I looked at **{name}** but found no drawn page elements: it seems blank, or a photo "
                "without a sketch in it. Wireframes with boxes, lines and written labels work best.")
    lines = [f"**{name}** ({layout.width}×{layout.height} px) looks like a page sketch with "
             f"{len(elements)} element{'s' if len(elements) != 1 else ''}, from top to bottom:", ""]
    for e in elements[:MAX_ITEMS]:
        kind = NAMES.get(e.type, e.type.replace("_", " "))
        lines.append(f"- {kind} “{e.text}”" if e.text else f"- {kind}")
    if len(elements) > MAX_ITEMS:
        lines.append(f"- … and {len(elements) - MAX_ITEMS} more")
    lines += ["", "Open it in the Sketch studio (Ctrl+Shift+K, or drop it on an empty chat) to turn it "
              "into a working web page."]
    return "\n".join(lines)
