"""The layout: the contract between reading a sketch and building its page.

``seesay sketch --layout`` writes it as JSON: a tree of containers and leaves, and the flat
``elements`` list (``type``, ``bbox`` [x, y, w, h] in input pixels, ``text``, and where the
text was read by the OCR, its ``raw`` reading and ``confidence``). The vocabulary of types
is described in :mod:`seesay.vision.sketch`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LEAF_TYPES = (
    "heading",
    "label",
    "link",
    "paragraph",
    "button",
    "text_input",
    "select",
    "checkbox",
    "radio",
    "image",
    "icon",
    "divider",
)
CONTAINER_TYPES = ("page", "row", "column", "navbar", "footer", "card")

Box = tuple[float, float, float, float]  # x, y, w, h in working pixels


@dataclass
class Node:
    """One element of the layout tree; ``bbox`` is [x, y, w, h]."""

    type: str
    bbox: list[int]
    text: str = ""
    children: list[Node] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"lines": 3} for a paragraph

    @property
    def is_leaf(self) -> bool:
        return self.type in LEAF_TYPES

    def leaves(self) -> list[Node]:
        if self.is_leaf:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "bbox": list(self.bbox)}
        if self.is_leaf:
            out["text"] = self.text
            if self.meta:
                out["meta"] = dict(self.meta)
        else:
            out["children"] = [c.to_dict() for c in self.children]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Node:
        return cls(
            type=d["type"],
            bbox=list(d["bbox"]),
            text=d.get("text", ""),
            children=[cls.from_dict(c) for c in d.get("children", [])],
            meta=dict(d.get("meta", {})),
        )


@dataclass
class Layout:
    """The contract between understanding and generation (``seesay sketch --layout``)."""

    tree: Node
    width: int
    height: int
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def elements(self) -> list[Node]:
        return self.tree.leaves()

    def to_dict(self) -> dict[str, Any]:
        return {
            "tree": self.tree.to_dict(),
            "elements": [_element(e) for e in self.elements],
            "image": {"width": self.width, "height": self.height},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Layout:
        return cls(
            tree=Node.from_dict(d["tree"]), width=int(d["image"]["width"]), height=int(d["image"]["height"])
        )

    def labels(self) -> list[str]:
        return [e.text for e in self.elements if e.text]


def _element(node: Node) -> dict[str, Any]:
    """One entry of the flat ``elements`` list: type, bbox and text, plus the raw reading and
    its confidence where the text came from the OCR."""
    out: dict[str, Any] = {"type": node.type, "bbox": list(node.bbox), "text": node.text}
    for key in ("raw", "confidence"):
        if key in node.meta:
            out[key] = node.meta[key]
    return out
