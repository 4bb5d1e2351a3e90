"""Layout tree → a clean, responsive, self-contained HTML5 page.

The deterministic page is the floor: it is always produced, needs no model, and every
model-made change is checked against it (:mod:`seesay.vision.validation`) and thrown away
when it fails. So a weak or random model can never make the result worse than the page
built here. Model polish lives in :mod:`seesay.vision.refine`, revisions ("make the header
dark blue and add a footer") in :mod:`seesay.vision.revision`.
"""

from __future__ import annotations

import html as _html
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from seesay.vision import metrics
from seesay.vision.layout import Layout, Node

log = logging.getLogger(__name__)

_INLINE = ("button", "link", "label", "checkbox", "radio", "icon")
DEFAULT_THEME = {
    "accent": "#2f5bd3",
    "background": "#f7f7fb",
    "surface": "#ffffff",
    "text": "#1d2433",
    "muted": "#5b6478",
    "header": "#ffffff",
    "header_text": "#1d2433",
}


@dataclass(frozen=True)
class Proportions:
    """How strictly a page keeps the drawing's vertical proportions: what render-and-compare
    (:func:`seesay.vision.compare.fit`) adjusts. By default a page has the drawn gaps and the
    natural heights of its elements; with ``heights`` every element is at least that share of
    its drawn height, so a box drawn tall stays tall."""

    gaps: float = 1.0  # the drawn vertical gaps, scaled
    heights: float = 0.0  # the drawn heights kept as minimums, scaled (0: natural heights)


@dataclass
class PageResult:
    html: str
    source: str  # "layout", "llm", "vlm", "rules", "model", "unchanged"
    notes: list[str] = field(default_factory=list)


# --- deterministic rendering ----------------------------------------------------------------------


def render_page(
    layout: Layout,
    *,
    theme: dict[str, str] | None = None,
    copy: Sequence[str] | None = None,
    title: str | None = None,
    proportions: Proportions = Proportions(),
) -> str:
    """The page for a layout. ``copy`` replaces the placeholder paragraph texts in order."""
    r = _Renderer(layout, dict(DEFAULT_THEME, **(theme or {})), list(copy or []), proportions)
    body = r.render_children(layout.tree.children, top=True)
    headings = [e.text for e in layout.elements if e.type == "heading" and e.text]
    title = title or (headings[0] if headings else "Page from a sketch")
    return _TEMPLATE.format(title=_html.escape(title), css=_css(r.theme), body=body)


Frame = tuple[float, float, float, float]  # x, y, w, h of a drawn box, in sketch pixels

# Leaves whose drawn width is kept (as a share of their container); a button's is a minimum,
# so its label never overflows.
_SIZED = ("text_input", "select", "image", "paragraph", "divider")
# Rendered width of the page's content column at a desktop window: turns drawn sizes into
# the line counts and text-area rows a drawing implies.
_PAGE_PX = 1050.0


def _content_area(layout: Layout) -> Frame:
    """The drawn content area: the bounding box of everything drawn, not the photo (which has
    margins), so a drawing centred on the sheet is centred within it."""
    around = metrics.extent([n.bbox for n in _walk(layout.tree) if n is not layout.tree])
    if around is None:
        return (0.0, 0.0, float(max(layout.width, 1)), float(max(layout.height, 1)))
    x, y, w, h = around
    return (x, y, max(w, 1.0), max(h, 1.0))


def _walk(node: Node) -> list[Node]:
    return [node, *(d for c in node.children for d in _walk(c))]


def alignment(box: Sequence[float], frame: Frame) -> str:
    """How a box is placed in its frame as drawn: "stretch", "center", "left" or "right".

    Hand-drawn margins are never equal, so a box counts as centred when its two side gaps
    differ by less than 8 % of the frame (and it is not hugging the left edge), and as
    filling the frame when it covers more than 90 % of it.
    """
    fx, _, fw, _ = frame
    x, w = float(box[0]), float(box[2])
    left, right = x - fx, fx + fw - (x + w)
    if w >= 0.9 * fw:
        return "stretch"
    tol = 0.08 * fw
    if abs(left - right) <= tol and left > 0.04 * fw:
        return "center"
    return "left" if left <= right else "right"


def _pct(value: float, frame: Frame, lo: float = 0.0, hi: float = 100.0) -> float:
    return max(lo, min(hi, 100.0 * value / max(frame[2], 1.0)))


def _style(parts: list[str]) -> str:
    return f' style="{"; ".join(parts)}"' if parts else ""


class _Renderer:
    """Walks the layout tree carrying each container's drawn box (its *frame*), so every
    element can be sized and placed as a share of the container it was drawn in: widths
    and gaps become percentages of the rendered container and scale with the window."""

    def __init__(
        self, layout: Layout, theme: dict[str, str], copy: list[str], proportions: Proportions
    ) -> None:
        self.layout = layout
        self.proportions = proportions
        self.theme = theme
        self.copy = copy
        self.ids = 0
        self.h1_done = False
        self.area = _content_area(layout)
        self.scale = _PAGE_PX / self.area[2]  # rendered px per drawn px at a desktop width
        controls = [e.bbox[3] for e in layout.elements if e.type in ("button", "select", "text_input")]
        self.line_h = float(sorted(controls)[(len(controls) - 1) // 2]) if controls else 46.0 / self.scale

    def _id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}-{self.ids}"

    def render_children(self, children: list[Node], top: bool = False, depth: int = 0) -> str:
        """The page's top level: navbars and footers are full-width bands, everything between
        them a stack placed in the drawn content area."""
        out: list[str] = []
        run: list[Node] = []

        def flush() -> None:
            if run:
                out.append('<main class="page">\n' + self._stack(run, self.area, depth) + "\n</main>")
                run.clear()

        bottom = self.area[1]
        for child in children:
            if top and child.type in ("navbar", "footer"):
                flush()
                style = []
                if child.type == "footer" and out:  # a footer drawn at the foot of the sheet stays there
                    gap = child.bbox[1] - bottom
                    style.append(f"margin-top: {_pct(gap, self.area, hi=30):.1f}%")
                out.append(self.render(child, depth, None, self.area, style))
            else:
                run.append(child)
            bottom = max(bottom, child.bbox[1] + child.bbox[3])
        if top:
            flush()
        else:
            out.append(self._stack(run, self.area, depth))
        return "\n".join(out)

    def _stack(self, kids: list[Node], frame: Frame, depth: int, first_gap: bool = False) -> str:
        """Children stacked top to bottom, each with the vertical gap drawn above it and its
        own horizontal placement in ``frame``."""
        parts = []
        prev_bottom = frame[1]
        for i, c in enumerate(kids):
            style: list[str] = []
            if i > 0 or first_gap:
                gap = max(0.0, c.bbox[1] - prev_bottom)
                scaled = _pct(gap, frame, hi=40) * self.proportions.gaps
                style.append(f"margin-top: max(4px, {scaled:.1f}%)")
            prev_bottom = max(prev_bottom, c.bbox[1] + c.bbox[3]) if i else c.bbox[1] + c.bbox[3]
            nxt = kids[i + 1] if i + 1 < len(kids) else None
            parts.append(self.render(c, depth + 1, nxt, frame, style))
        return "\n".join(parts)

    def _place(self, n: Node, frame: Frame, style: list[str]) -> list[str]:
        """Alignment and width of a block in its frame, as CSS declarations."""
        how = alignment(n.bbox, frame)
        out = list(style)
        if n.type in _SIZED or n.type == "card":
            width = 100.0 if how == "stretch" else _pct(n.bbox[2], frame, lo=5)
            out.append(f"width: {width:.1f}%")
        elif n.type == "button" and how != "stretch":
            out.append(f"min-width: {_pct(n.bbox[2], frame, lo=5):.1f}%")
        elif n.type == "button":
            out.append("width: 100%")
        if how == "center":
            out.append("align-self: center")
            if n.type in ("heading", "label", "link", "paragraph"):
                out.append("text-align: center")
        elif how == "right":
            out.append("align-self: flex-end")
            gap = frame[0] + frame[2] - (n.bbox[0] + n.bbox[2])
            if gap > 0.03 * frame[2]:
                out.append(f"margin-right: {_pct(gap, frame, hi=60):.1f}%")
            if n.type in ("heading", "label", "link", "paragraph"):
                out.append("text-align: right")
        else:
            out.append("align-self: flex-start")
            gap = n.bbox[0] - frame[0]
            if how == "left" and gap > 0.03 * frame[2]:
                out.append(f"margin-left: {_pct(gap, frame, hi=60):.1f}%")
        return out

    def render(
        self,
        node: Node,
        depth: int,
        nxt: Node | None = None,
        frame: Frame | None = None,
        style: list[str] | None = None,
    ) -> str:
        t = node.type
        frame = frame or self.area
        style = list(style or [])
        box: Frame = (float(node.bbox[0]), float(node.bbox[1]), float(node.bbox[2]), float(node.bbox[3]))
        if t == "navbar":
            links = [leaf for leaf in node.leaves() if leaf.type in ("link", "label", "heading")]
            rest = [leaf for leaf in node.leaves() if leaf not in links]
            brand = links[0] if links else None
            items = "".join(f'<li><a href="#" data-kind="link">{_e(x.text)}</a></li>' for x in links[1:])
            extra = "".join(self.leaf(x, None, []) for x in rest)
            brand_html = f'<a class="brand" href="#" data-kind="link">{_e(brand.text)}</a>' if brand else ""
            return (
                f'<header class="site-header"{_style(style)}><nav class="nav">{brand_html}'
                f'<ul class="nav-links">{items}</ul>{extra}</nav></header>'
            )
        if t == "footer":
            inner = self._stack(node.children, box, depth + 1)
            return f'<footer class="site-footer"{_style(style)}><div class="stack">{inner}</div></footer>'
        if t == "card":
            inner = self._stack(node.children, box, depth + 1)
            return f'<article class="card"{_style(self._place(node, frame, style))}>\n{inner}\n</article>'
        if t == "row":
            return self._row(node, frame, depth, style)
        if t == "column":
            return (
                f'<div class="stack"{_style(style)}>\n'
                + self._stack(node.children, frame, depth)
                + "\n</div>"
            )
        placed = self._place(node, frame, style)
        if self.proportions.heights > 0 and t not in ("divider", "icon"):
            # cqw: a share of the page column's width, the unit the drawing's width maps to
            share = 100.0 * node.bbox[3] / self.area[2] * self.proportions.heights
            placed.append(f"min-height: {share:.2f}cqw")
        return self.leaf(node, nxt, placed)

    def _row(self, node: Node, frame: Frame, depth: int, style: list[str]) -> str:
        """Side-by-side groups: each keeps its drawn share of the frame's width and the drawn
        gap before it; the row as a whole is left, centred or right as drawn."""
        kids = sorted(node.children, key=lambda c: c.bbox[0])
        inline = all(c.type in _INLINE for c in kids)  # a button beside a link: keep them together
        how = alignment(node.bbox, frame)
        justify = {"center": "center", "right": "flex-end"}.get(how, "flex-start")
        row_style = [*style, f"justify-content: {justify}"]
        cells = []
        prev_right = float(frame[0])
        for i, c in enumerate(kids):
            cs: list[str] = []
            gap = c.bbox[0] - prev_right
            if (i > 0 or how in ("left", "stretch")) and gap > (0 if i else 0.03 * frame[2]):
                cs.append(f"margin-left: {_pct(gap, frame, hi=60):.1f}%")
            prev_right = c.bbox[0] + c.bbox[2]
            if inline:
                cells.append(
                    self.render(c, depth + 1, None, (c.bbox[0], c.bbox[1], c.bbox[2], c.bbox[3]), cs)
                )
                continue
            offset = c.bbox[1] - node.bbox[1]
            if offset > 0.02 * frame[2]:
                cs.append(f"margin-top: {_pct(offset, frame, hi=40):.1f}%")
            cs.append(f"width: {_pct(c.bbox[2], frame, lo=5):.1f}%")
            cell_frame: Frame = (float(c.bbox[0]), float(c.bbox[1]), float(c.bbox[2]), float(c.bbox[3]))
            cells.append(f'<div class="cell"{_style(cs)}>{self._stack([c], cell_frame, depth + 1)}</div>')
        cls = "row inline" if inline else "row"
        return f'<div class="{cls}"{_style(row_style)}>\n' + "\n".join(cells) + "\n</div>"

    def leaf(self, n: Node, nxt: Node | None, style: list[str] | None = None) -> str:
        t, text = n.type, _e(n.text)
        st = _style(style or [])
        if t == "heading":
            tag = "h2" if self.h1_done else "h1"
            self.h1_done = True
            return f'<{tag} data-kind="heading"{st}>{text}</{tag}>'
        if t == "label":
            if nxt is not None and nxt.type in ("text_input", "select"):
                nxt.meta["_id"] = self._id("field")
                return (
                    f'<label class="field-label" for="{nxt.meta["_id"]}" data-kind="label"{st}>{text}</label>'
                )
            return f'<p class="label" data-kind="label"{st}>{text}</p>'
        if t == "link":
            return f'<a class="link" href="#" data-kind="link"{st}>{text}</a>'
        if t == "paragraph":
            return self._paragraph(n, st)
        if t == "button":
            if text:
                return f'<button type="button" class="button" data-kind="button"{st}>{text}</button>'
            # Nothing was written on it: say so, rather than inventing what it does.
            return (
                f'<button type="button" class="button placeholder" data-kind="button" '
                f'aria-label="button (no label drawn)"{st}>Button</button>'
            )
        if t == "text_input":
            fid = n.meta.get("_id") or self._id("field")
            ph = f' placeholder="{text}"' if text else ""
            if n.bbox[3] >= 2.2 * self.line_h:  # drawn several lines tall: a text area
                rows = max(2, min(20, round(n.bbox[3] * self.scale / 26)))
                return (
                    f'<textarea id="{fid}" class="input" data-kind="text_input"{ph} rows="{rows}"{st}>'
                    "</textarea>"
                )
            return f'<input type="text" id="{fid}" class="input" data-kind="text_input"{ph}{st}>'
        if t == "select":
            fid = n.meta.get("_id") or self._id("field")
            first = text or "Choose…"
            return (
                f'<select id="{fid}" class="input" data-kind="select"{st}><option>{first}</option>'
                "<option>Option 2</option><option>Option 3</option></select>"
            )
        if t in ("checkbox", "radio"):
            name = ' name="choice"' if t == "radio" else ""
            return (
                f'<label class="choice" data-kind="{t}"{st}>'
                f'<input type="{t}"{name}> <span>{text}</span></label>'
            )
        if t == "image":
            w, h = max(n.bbox[2], 1), max(n.bbox[3], 1)
            round_ = n.meta.get("shape") == "circle"
            cap = f"<figcaption>{text}</figcaption>" if text else ""
            img_style = [*(style or []), f"aspect-ratio: {w} / {h}"]
            return (
                f'<figure class="media{" round" if round_ else ""}" data-kind="image"'
                f"{_style(img_style)}>{_placeholder_svg(w, h)}{cap}</figure>"
            )
        if t == "icon":
            return (
                f'<span class="icon" data-kind="icon" aria-hidden="true"{st}><svg viewBox="0 0 24 24">'
                '<circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" stroke-width="2"/>'
                "</svg></span>"
            )
        if t == "divider":
            return f'<hr data-kind="divider"{st}>'
        return f"<div{st}>{text}</div>"

    def _paragraph(self, n: Node, st: str) -> str:
        """Text only from the drawing or the model's copy; squiggles drawn for text become grey
        bars, one per drawn line, marked as a placeholder so nobody mistakes them for copy."""
        if self.copy:
            return f'<p class="text" data-kind="paragraph"{st}>{_e(self.copy.pop(0))}</p>'
        if n.text:
            return f'<p class="text" data-kind="paragraph"{st}>{_e(n.text)}</p>'
        lines = n.meta.get("lines")
        if not isinstance(lines, int) or lines < 1:
            lines = max(2, min(3, round(n.bbox[3] * self.scale / 26)))
        lines = min(lines, 12)
        bars = "".join(
            f'<span class="ph-line" style="width: {60 if i == lines - 1 and lines > 1 else 100}%"></span>'
            for i in range(lines)
        )
        return (
            f'<p class="text placeholder" data-kind="paragraph" role="img" '
            f'aria-label="placeholder text, {lines} line{"s" if lines > 1 else ""}"{st}>{bars}</p>'
        )


def _e(text: str) -> str:
    return _html.escape(text, quote=True)


def _placeholder_svg(w: int, h: int) -> str:
    """An inline picture placeholder (no external file): frame, sun and hills, scaled to the sketch."""
    sw = max(w, h) / 120
    return (
        f'<svg viewBox="0 0 {w} {h}" preserveAspectRatio="xMidYMid slice" role="img" '
        f'aria-label="Image placeholder"><rect width="{w}" height="{h}" fill="#dfe4ee"/>'
        f'<circle cx="{w * 0.72:.0f}" cy="{h * 0.3:.0f}" r="{min(w, h) * 0.1:.0f}" fill="#c3cadb"/>'
        f'<path d="M0 {h} L{w * 0.35:.0f} {h * 0.45:.0f} L{w * 0.6:.0f} {h * 0.75:.0f} '
        f'L{w * 0.78:.0f} {h * 0.58:.0f} L{w} {h} Z" fill="#b7c0d3"/>'
        f'<rect width="{w}" height="{h}" fill="none" stroke="#c3cadb" stroke-width="{sw:.1f}"/></svg>'
    )


def _css(t: dict[str, str]) -> str:
    return f"""
:root {{ --accent: {t["accent"]}; --bg: {t["background"]}; --surface: {t["surface"]}; --text: {t["text"]};
  --muted: {t["muted"]}; --header: {t["header"]}; --header-text: {t["header_text"]}; --radius: 10px; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  background: var(--bg); color: var(--text); }}
.site-header {{ background: var(--header); color: var(--header-text); border-bottom: 1px solid #0001;
  position: sticky; top: 0; }}
.nav {{ max-width: 1100px; margin: 0 auto; padding: 14px 24px; display: flex; align-items: center;
  gap: 24px; }}
.brand {{ font-weight: 700; font-size: 1.25rem; color: inherit; text-decoration: none; margin-right: auto; }}
.nav-links {{ display: flex; gap: 20px; list-style: none; margin: 0; padding: 0; flex-wrap: wrap; }}
.nav-links a {{ color: inherit; text-decoration: none; opacity: .85; }}
.nav-links a:hover {{ opacity: 1; text-decoration: underline; }}
.page {{ max-width: 1100px; margin: 0 auto; padding: 32px 24px; display: flex; flex-direction: column;
  container-type: inline-size; }}
.page > * + *, .stack > * + *, .card > * + * {{ margin-top: 14px; }}
.row {{ display: flex; align-items: flex-start; flex-wrap: wrap; align-self: stretch; }}
.row > * + * {{ margin-left: 24px; }}
.row.inline {{ align-items: center; }}
.row:not(.inline) {{ flex-wrap: nowrap; }}
.cell {{ min-width: 0; flex: 0 1 auto; display: flex; flex-direction: column; }}
.stack {{ display: flex; flex-direction: column; align-items: flex-start; }}
.stack > .input, .stack > .media, .stack > .text {{ align-self: stretch; }}
.card {{ background: var(--surface); border-radius: var(--radius); padding: 20px;
  box-shadow: 0 1px 3px #0002; display: flex; flex-direction: column; height: 100%; }}
h1 {{ font-size: clamp(2rem, 4vw, 2.8rem); line-height: 1.15; margin: 0; }}
h2 {{ font-size: 1.5rem; margin: 0; }}
.label, .field-label {{ margin: 0; font-weight: 600; }}
.text {{ margin: 0; color: var(--muted); max-width: 65ch; }}
.text[style*="width"] {{ max-width: none; min-width: min(100%, 10rem); }}
.text.placeholder {{ color: transparent; }}
.ph-line {{ display: block; height: .65em; margin: .45em 0; border-radius: 999px; background: #0000001c; }}
.link {{ color: var(--accent); }}
.button {{ background: var(--accent); color: #fff; border: 0; border-radius: var(--radius);
  padding: 10px 22px; font: inherit; font-weight: 600; cursor: pointer; }}
.button:hover {{ filter: brightness(1.1); }}
.button.placeholder {{ background: transparent; color: var(--muted); border: 2px dashed #0003;
  font-style: italic; font-weight: 400; }}
.input {{ width: 100%; max-width: 480px; padding: 10px 12px; font: inherit; border: 1px solid #c8cdd8;
  border-radius: 8px; background: #fff; color: #1d2433; }}
.input[style*="width"] {{ max-width: 100%; min-width: min(100%, 10rem); }}
textarea.input {{ resize: vertical; }}
.choice {{ display: flex; align-items: center; gap: 8px; }}
.media {{ margin: 0; width: 100%; border-radius: var(--radius); overflow: hidden; background: #dfe4ee; }}
.media[style*="width"] {{ min-width: min(100%, 6rem); }}
.media svg {{ display: block; width: 100%; height: 100%; }}
.media.round {{ border-radius: 50%; }}
.icon {{ width: 28px; height: 28px; color: var(--muted); display: inline-block; }}
.site-footer {{ border-top: 1px solid #0001; padding: 24px; color: var(--muted); }}
.site-footer > * {{ max-width: 1100px; margin: 0 auto; }}
.site-footer .row {{ gap: 32px; }}
.site-footer .cell {{ min-width: 0; }}
hr {{ width: 100%; border: 0; border-top: 1px solid #0002; }}
@media (max-width: 700px) {{
  .row:not(.inline) {{ flex-direction: column; }}
  .row:not(.inline) > .cell {{ width: 100% !important; min-width: 0; margin-left: 0 !important; }}
  .nav {{ flex-wrap: wrap; }}
}}
"""


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
{body}
</body>
</html>
"""


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #RRGGBB colours."""

    def lum(c: str) -> float:
        rgb = [int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    la, lb = sorted((lum(a), lum(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
