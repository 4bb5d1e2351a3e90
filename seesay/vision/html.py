"""Layout tree → a clean, responsive, self-contained HTML5 page; optional model polish and revisions.

The deterministic page is the floor: it is always produced, needs no model, and
every model-made change is validated against it (parses, keeps the drawn labels, no
external resources or network scripts) and thrown away when it fails. So a weak or
random model can never make the result worse than the page built here.

Refinement does not let the model rewrite markup: it asks for a small JSON object
(a colour theme and copy text for the paragraphs) and applies it to the same tree,
which keeps the structure by construction. Revisions ("make the header dark blue and
add a footer") do let a model rewrite the page, with the same validation; without a
capable model a few common instructions are applied as plain CSS/HTML edits.
"""

from __future__ import annotations

import html as _html
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from seesay.inference.engine import Message
from seesay.vision import safety
from seesay.vision.sketch import Layout, Node

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
) -> str:
    """The page for a layout. ``copy`` replaces the placeholder paragraph texts in order."""
    r = _Renderer(layout, dict(DEFAULT_THEME, **(theme or {})), list(copy or []))
    body = r.render_children(layout.tree.children, top=True)
    headings = [e.text for e in layout.elements if e.type == "heading" and e.text]
    title = title or (headings[0] if headings else "Page from a sketch")
    return _TEMPLATE.format(title=_html.escape(title), css=_css(r.theme), body=body)


class _Renderer:
    def __init__(self, layout: Layout, theme: dict[str, str], copy: list[str]) -> None:
        self.layout = layout
        self.theme = theme
        self.copy = copy
        self.ids = 0
        self.h1_done = False
        self.topic = next((e.text for e in layout.elements if e.type == "heading" and e.text), "this page")

    def _id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}-{self.ids}"

    def render_children(self, children: list[Node], top: bool = False, depth: int = 0) -> str:
        out: list[str] = []
        main: list[str] = []
        for i, child in enumerate(children):
            nxt = children[i + 1] if i + 1 < len(children) else None
            markup = self.render(child, depth, nxt)
            if top and child.type in ("navbar", "footer"):
                if main:
                    out.append('<main class="page">\n' + "\n".join(main) + "\n</main>")
                    main = []
                out.append(markup)
            else:
                main.append(markup)
        if main:
            out.append(
                ('<main class="page">\n' if top else "") + "\n".join(main) + ("\n</main>" if top else "")
            )
        return "\n".join(out)

    def render(self, node: Node, depth: int, nxt: Node | None = None) -> str:
        t = node.type
        if t == "navbar":
            links = [leaf for leaf in node.leaves() if leaf.type in ("link", "label", "heading")]
            rest = [leaf for leaf in node.leaves() if leaf not in links]
            brand = links[0] if links else None
            items = "".join(f'<li><a href="#" data-kind="link">{_e(x.text)}</a></li>' for x in links[1:])
            extra = "".join(self.leaf(x, None) for x in rest)
            brand_html = f'<a class="brand" href="#" data-kind="link">{_e(brand.text)}</a>' if brand else ""
            return (
                f'<header class="site-header"><nav class="nav">{brand_html}'
                f'<ul class="nav-links">{items}</ul>{extra}</nav></header>'
            )
        if t == "footer":
            return (
                f'<footer class="site-footer">{self.render_children(node.children, depth=depth + 1)}</footer>'
            )
        if t == "card":
            return (
                f'<article class="card">\n{self.render_children(node.children, depth=depth + 1)}\n</article>'
            )
        if t == "row":
            if all(c.type in _INLINE for c in node.children):  # a button beside a link: keep them together
                return (
                    '<div class="row inline">\n'
                    + "\n".join(self.render(c, depth + 1) for c in node.children)
                    + "\n</div>"
                )
            total = sum(c.bbox[2] for c in node.children) or 1
            cells = []
            for c in node.children:
                grow = max(1, round(12 * c.bbox[2] / total))
                cells.append(f'<div class="cell" style="flex: {grow} 1 0">{self.render(c, depth + 1)}</div>')
            return '<div class="row">\n' + "\n".join(cells) + "\n</div>"
        if t == "column":
            parts = []
            kids = node.children
            for i, c in enumerate(kids):
                parts.append(self.render(c, depth + 1, kids[i + 1] if i + 1 < len(kids) else None))
            return '<div class="stack">\n' + "\n".join(parts) + "\n</div>"
        return self.leaf(node, nxt)

    def leaf(self, n: Node, nxt: Node | None) -> str:
        t, text = n.type, _e(n.text)
        if t == "heading":
            tag = "h2" if self.h1_done else "h1"
            self.h1_done = True
            return f'<{tag} data-kind="heading">{text}</{tag}>'
        if t == "label":
            if nxt is not None and nxt.type in ("text_input", "select"):
                nxt.meta["_id"] = self._id("field")
                return f'<label class="field-label" for="{nxt.meta["_id"]}" data-kind="label">{text}</label>'
            return f'<p class="label" data-kind="label">{text}</p>'
        if t == "link":
            return f'<a class="link" href="#" data-kind="link">{text}</a>'
        if t == "paragraph":
            return f'<p class="text" data-kind="paragraph">{_e(self._paragraph(n))}</p>'
        if t == "button":
            return f'<button type="button" class="button" data-kind="button">{text or "Continue"}</button>'
        if t == "text_input":
            fid = n.meta.get("_id") or self._id("field")
            ph = f' placeholder="{text}"' if text else ""
            return f'<input type="text" id="{fid}" class="input" data-kind="text_input"{ph}>'
        if t == "select":
            fid = n.meta.get("_id") or self._id("field")
            first = text or "Choose…"
            return (
                f'<select id="{fid}" class="input" data-kind="select"><option>{first}</option>'
                "<option>Option 2</option><option>Option 3</option></select>"
            )
        if t in ("checkbox", "radio"):
            name = ' name="choice"' if t == "radio" else ""
            return (
                f'<label class="choice" data-kind="{t}"><input type="{t}"{name}> <span>{text}</span></label>'
            )
        if t == "image":
            w, h = max(n.bbox[2], 1), max(n.bbox[3], 1)
            round_ = n.meta.get("shape") == "circle"
            cap = f"<figcaption>{text}</figcaption>" if text else ""
            return (
                f'<figure class="media{" round" if round_ else ""}" data-kind="image" '
                f'style="aspect-ratio: {w} / {h}">{_placeholder_svg(w, h)}{cap}</figure>'
            )
        if t == "icon":
            return (
                '<span class="icon" data-kind="icon" aria-hidden="true"><svg viewBox="0 0 24 24">'
                '<circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" stroke-width="2"/>'
                "</svg></span>"
            )
        if t == "divider":
            return '<hr data-kind="divider">'
        return f"<div>{text}</div>"

    def _paragraph(self, n: Node) -> str:
        if self.copy:
            return self.copy.pop(0)
        lines = int(n.meta.get("lines", 2))
        base = [
            f"A few words about {self.topic.lower()}: what it is, who it is for and why it matters.",
            "Replace this text with your own copy; keep it short and concrete.",
            "Every section of the sketch became a block you can edit, move or restyle.",
        ]
        return " ".join(base[: max(1, min(3, lines - 1 if lines > 2 else lines))])


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
  gap: 24px; }}
.row {{ display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }}
.row.inline {{ align-items: center; }}
.cell {{ min-width: 220px; }}
.stack {{ display: flex; flex-direction: column; gap: 14px; align-items: flex-start; }}
.stack > .input, .stack > .media, .stack > .text {{ align-self: stretch; }}
.card {{ background: var(--surface); border-radius: var(--radius); padding: 20px;
  box-shadow: 0 1px 3px #0002; display: flex; flex-direction: column; gap: 12px; height: 100%; }}
h1 {{ font-size: clamp(2rem, 4vw, 2.8rem); line-height: 1.15; margin: 0; }}
h2 {{ font-size: 1.5rem; margin: 0; }}
.label, .field-label {{ margin: 0; font-weight: 600; }}
.text {{ margin: 0; color: var(--muted); max-width: 65ch; }}
.link {{ color: var(--accent); }}
.button {{ background: var(--accent); color: #fff; border: 0; border-radius: var(--radius);
  padding: 10px 22px; font: inherit; font-weight: 600; cursor: pointer; }}
.button:hover {{ filter: brightness(1.1); }}
.input {{ width: 100%; max-width: 480px; padding: 10px 12px; font: inherit; border: 1px solid #c8cdd8;
  border-radius: 8px; background: #fff; color: #1d2433; }}
.choice {{ display: flex; align-items: center; gap: 8px; }}
.media {{ margin: 0; width: 100%; border-radius: var(--radius); overflow: hidden; background: #dfe4ee; }}
.media svg {{ display: block; width: 100%; height: 100%; }}
.media.round {{ border-radius: 50%; }}
.icon {{ width: 28px; height: 28px; color: var(--muted); display: inline-block; }}
.site-footer {{ border-top: 1px solid #0001; padding: 24px; color: var(--muted); }}
.site-footer > * {{ max-width: 1100px; margin: 0 auto; }}
.site-footer .row {{ gap: 32px; }}
.site-footer .cell {{ min-width: 0; flex: 0 0 auto !important; }}
hr {{ width: 100%; border: 0; border-top: 1px solid #0002; }}
@media (max-width: 700px) {{
  .row {{ flex-direction: column; }}
  .cell {{ width: 100%; min-width: 0; }}
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


# --- validation -----------------------------------------------------------------------------------


def extract_html(reply: str) -> str | None:
    """The HTML document in a model reply: a fenced block, or from <!DOCTYPE/<html to </html>."""
    m = re.search(r"```(?:html)?\s*\n(.*?)```", reply, re.S | re.I)
    if m and "<" in m.group(1):
        reply = m.group(1)
    m = re.search(r"(<!DOCTYPE html.*?</html>|<html.*?</html>)", reply, re.S | re.I)
    return m.group(1).strip() if m else None


def validate(page: str, labels: Sequence[str] = (), *, min_kept: float = 1.0) -> list[str]:
    """Problems that disqualify a model-made page; empty when it may replace the current one."""
    problems, tags, text = safety.scan(page)
    if "body" not in tags and "main" not in tags:
        problems.append("no page body")
    visible = _norm(text + " " + " ".join(re.findall(r'(?:placeholder|value)="([^"]*)"', page)))
    wanted = [lab for lab in labels if _norm(lab)]
    kept = [lab for lab in wanted if _norm(lab) in visible]
    if wanted and len(kept) < min_kept * len(wanted):
        missing = [lab for lab in wanted if lab not in kept]
        problems.append("drops drawn labels: " + ", ".join(missing[:5]))
    return problems


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.lower()).strip()


def page_labels(page: str) -> list[str]:
    """Texts of the labelled elements of a page we generated (data-kind markers)."""
    found = re.findall(
        r'data-kind="(?:heading|label|link|button|checkbox|radio)"[^>]*>(?:<input[^>]*>\s*'
        r"<span>)?([^<]+)<",
        page,
    )
    found += re.findall(r'data-kind="(?:text_input)"[^>]*placeholder="([^"]+)"', page)
    return [_html.unescape(f).strip() for f in found if f.strip()]


# --- model refinement -----------------------------------------------------------------------------

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


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #RRGGBB colours."""

    def lum(c: str) -> float:
        rgb = [int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    la, lb = sorted((lum(a), lum(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# --- revisions ------------------------------------------------------------------------------------


# The stylesheet every generated page shares after its :root theme line; a revision shows the model
# this marker instead (a page's own CSS is short, the shared one is ~900 tokens that never change).
_ROOT_RULE = re.compile(r":root\s*\{[^}]*\}")
STOCK_CSS = _ROOT_RULE.split(_css(DEFAULT_THEME), maxsplit=1)[1]
STOCK_MARKER = "/* base styles */"


def editable_view(page: str) -> str:
    """What a model edits: the page without the shared stylesheet, saved-page comment and CSP."""
    view = page.replace(STOCK_CSS, "\n" + STOCK_MARKER + "\n", 1)
    return view.replace(safety.SAVED_HEADER + "\n", "").replace(safety.CSP_META + "\n", "")


def restore_view(edited: str, page: str) -> str:
    """A revised :func:`editable_view` made whole again: the shared stylesheet back in place."""
    if STOCK_CSS not in page or STOCK_CSS in edited:
        return edited
    if STOCK_MARKER in edited:
        return edited.replace(STOCK_MARKER, STOCK_CSS.strip("\n"), 1)
    root = _ROOT_RULE.search(edited)  # the model dropped the marker: the stock rules go first
    if root:
        return edited[: root.end()] + STOCK_CSS + edited[root.end() :]
    return re.sub(r"<style[^>]*>", lambda m: m.group(0) + STOCK_CSS, edited, count=1, flags=re.I)


def apply_instruction(page: str, instruction: str, engine: Any = None, params: Any = None) -> PageResult:
    """Revise a page by instruction: the model when it gives a valid page, else simple rules."""
    instruction = instruction.strip()
    if not instruction:
        return PageResult(page, "unchanged", ["no instruction given"])
    labels = page_labels(page)
    removing = re.search(r"\b(remove|delete|drop|without|rename|replace)\b", instruction, re.I)
    if engine is not None:
        messages, default_params = revision_request(page, instruction)
        try:
            reply = _generate(engine, messages, params or default_params)
            revised = extract_html(reply if "</html>" in reply.lower() else reply + "\n</html>")
            if revised is None:
                raise ValueError("no HTML page in the reply")
            revised = restore_view(revised, page)
            problems = validate(revised, labels, min_kept=0.6 if removing else 1.0)
            if not problems and revised.strip() != page.strip():
                return PageResult(revised, "model", [f"revised by the model: {instruction}"])
            log.info("model revision rejected: %s", problems or "unchanged")
        except Exception as e:  # fall through to the rules
            log.info("model revision failed: %s", e)
    revised, done = apply_rules(page, instruction)
    if not done:
        return PageResult(page, "unchanged", [f"could not apply “{instruction}” without a capable model"])
    return PageResult(revised, "rules", done)


def revision_request(page: str, instruction: str) -> tuple[list[Message], Any]:
    """The messages and generation settings that ask a chat model to revise ``page``.

    Greedy, because edits should stay close to the page (which the engine's n-gram drafting
    then verifies many tokens at a time), ending at the page's end, with room for all of it.
    """
    from seesay.inference.engine import GenerationParams

    view = editable_view(page)
    messages: list[Message] = [
        {
            "role": "system",
            "content": "You edit HTML pages. Reply with the complete revised page in one "
            "```html code block. Keep it self-contained: no external URLs, "
            f"fonts, images or scripts that load anything. Keep the {STOCK_MARKER} line in the "
            "<style> element: it stands for the page's shared stylesheet.",
        },
        {"role": "user", "content": f"Page:\n```html\n{view}\n```\n\nChange: {instruction}"},
    ]
    params = GenerationParams(
        max_new_tokens=min(4096, len(view) // 2 + 256),
        temperature=0.0,
        repetition_penalty=1.0,
        stop=("</html>",),
    )
    return messages, params


_COLOURS = {
    "dark blue": "#1e3a8a",
    "navy": "#1e2a5a",
    "blue": "#2563eb",
    "light blue": "#dbeafe",
    "red": "#dc2626",
    "dark red": "#7f1d1d",
    "green": "#16a34a",
    "dark green": "#14532d",
    "yellow": "#facc15",
    "orange": "#ea580c",
    "purple": "#7c3aed",
    "pink": "#db2777",
    "black": "#111111",
    "white": "#ffffff",
    "gray": "#6b7280",
    "grey": "#6b7280",
    "dark gray": "#374151",
    "dark grey": "#374151",
    "teal": "#0d9488",
    "light gray": "#f3f4f6",
    "light grey": "#f3f4f6",
    "brown": "#78350f",
}
_TARGETS = {
    "header": ".site-header",
    "navbar": ".site-header",
    "nav bar": ".site-header",
    "navigation": ".site-header",
    "menu": ".site-header",
    "footer": ".site-footer",
    "background": "body",
    "page": "body",
    "buttons": ".button",
    "button": ".button",
    "links": ".link, .nav-links a",
    "cards": ".card",
    "card": ".card",
    "headings": "h1, h2",
    "heading": "h1, h2",
    "title": "h1",
}


def _dark(hex_colour: str) -> bool:
    return contrast(hex_colour, "#ffffff") > contrast(hex_colour, "#111111")


def apply_rules(page: str, instruction: str) -> tuple[str, list[str]]:
    """A few common revisions as direct CSS/HTML edits; returns the page and what was done."""
    css: list[str] = []
    done: list[str] = []
    low = instruction.lower()
    colour_names = sorted(_COLOURS, key=len, reverse=True)
    for clause in re.split(r"\band\b|,|;|\.", low):
        target = next(
            (t for t in sorted(_TARGETS, key=len, reverse=True) if re.search(rf"\b{t}\b", clause)), None
        )
        colour = next((c for c in colour_names if re.search(rf"\b{c}\b", clause)), None)
        if target and colour:
            sel, value = _TARGETS[target], _COLOURS[colour]
            fg = "#ffffff" if _dark(value) else "#111111"
            if sel in (".link, .nav-links a", "h1, h2", "h1"):
                css.append(f"{sel} {{ color: {value}; }}")
            else:
                css.append(f"{sel} {{ background: {value}; color: {fg}; }}")
            if sel == ".site-header":
                css.append(f".site-header a {{ color: {fg}; }}")
            done.append(f"{target} → {colour}")
        elif re.search(r"\bdark (mode|theme)\b", clause):
            css.append(
                "body { background: #111827; color: #e5e7eb; } .card { background: #1f2937; } "
                ".text { color: #9ca3af; } .site-header { background: #0b1220; color: #e5e7eb; }"
            )
            done.append("dark theme")
        elif re.search(r"\b(bigger|larger) (text|font)", clause):
            css.append("body { font-size: 18px; }")
            done.append("larger text")
        elif re.search(r"\b(smaller) (text|font)", clause):
            css.append("body { font-size: 14px; }")
            done.append("smaller text")
        elif re.search(r"\brounded\b", clause):
            css.append(":root { --radius: 18px; } .button { border-radius: 999px; }")
            done.append("rounder corners")
        elif re.search(r"\bcent(er|re)\b", clause):
            css.append(".page, .stack { align-items: center; text-align: center; }")
            done.append("centred content")
    if re.search(r"\badd (a )?footer\b", low) and "<footer" not in page:
        footer = (
            '<footer class="site-footer" data-kind="footer"><p>© Your company · '
            '<a href="#" class="link">Privacy</a> · <a href="#" class="link">Contact</a></p></footer>'
        )
        page = re.sub(r"</body>", footer + "\n</body>", page, count=1, flags=re.I)
        css.append(".site-footer { padding: 24px; text-align: center; }")
        done.append("added a footer")
    if css:
        rules = "\n".join(css)
        if '<style id="seesay-edits">' in page:
            page = page.replace('<style id="seesay-edits">', f'<style id="seesay-edits">\n{rules}', 1)
        else:
            page = re.sub(
                r"</head>",
                f'<style id="seesay-edits">\n{rules}\n</style>\n</head>',
                page,
                count=1,
                flags=re.I,
            )
    return page, done
