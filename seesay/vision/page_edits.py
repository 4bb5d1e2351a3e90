"""Edits of a parsed page, one per understood clause, each checked in the DOM before and after.

The page is parsed by lexbor (the WHATWG parser :mod:`seesay.vision.safety` trusts) and
edited as a tree: restyles are inline declarations on the elements named, so the check
is exact (every element named carries them, and at least one did not before); new
elements take the generated pages' classes and their text from the page (a new header
is branded with the page's first heading); removals are counted. An edit that the DOM
does not show afterwards is reported as not applied. Nothing here talks to a model.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from seesay.vision.html import _placeholder_svg, contrast
from seesay.vision.instructions import Clause, StylePart, Target


class Done(str):
    """A sentence saying what an edit did; a plain str from an edit says why it could not."""


def _restyle(tree: LexborHTMLParser, clause: Clause) -> str:
    created: list[str] = []
    found: list[tuple[LexborNode, Target]] = []
    for target in clause.targets:
        nodes = _find(tree, target)
        if not nodes and target.kind in ("header", "footer"):  # restyling what is not there creates it
            nodes = [_add_node(tree, target.kind, None, None, top=False)]
            created.append(target.kind)
        found += [(n, target) for n in nodes]
    names = " and ".join(t.singular if t.one else t.plural for t in clause.targets)
    if not found:
        return f"The page has no {names} to {_verb(clause.styles)}."
    changes = [change for node, target in found for change in _decls(clause.styles, node, target)]
    if all(_has(node, decls) for node, decls in changes):
        looks = "looks" if len(found) == 1 else "look"
        return f"Nothing changed for “{clause.said}”: the {names} already {looks} like that."
    for node, decls in changes:
        _set_styles(node, decls)
    if not all(_has(node, decls) for node, decls in changes):
        return f"“{clause.said}” did not take effect, so it is not applied."
    counted = " and ".join("the " + t.noun_for(sum(1 for _, x in found if x is t)) for t in clause.targets)
    if created:
        what = "it" if len(clause.targets) == 1 else counted
        return Done(
            f"Added a {' and a '.join(created)} (the page had none) and {_past(clause.styles, what)}."
        )
    return Done(_sentence(_past(clause.styles, counted)))


def _remove(tree: LexborHTMLParser, clause: Clause) -> str:
    target, label = clause.targets[0], clause.label
    nodes = _find(tree, target, every=True)
    if label:
        nodes = [n for n in nodes if _same_text(n, label)]
        if not nodes:
            return f"The page has no “{label}” {target.singular} to remove."
    elif not nodes:
        return f"The page has no {target.singular if target.one else target.plural} to remove."
    elif clause.ordinal:
        nodes = nodes[:1] if clause.ordinal == "first" else nodes[-1:]
    elif target.one:
        nodes = nodes[:1]
    elif not clause.many and len(nodes) > 1:
        example = next((_text(n) for n in nodes if _text(n)), "")
        hint = f", e.g. remove the {target.singular} “{example}”" if example else ", or say “all”"
        return f"The page has {len(nodes)} {target.plural}; say which one to remove{hint}."
    gone = Counter(_signature(n) for n in nodes)
    before = Counter(_signature(n) for n in elements(tree))
    for node in nodes:
        node.decompose()
    after = Counter(_signature(n) for n in elements(tree))
    if any(after[s] != before[s] - n for s, n in gone.items()):
        return f"“{clause.said}” did not take effect, so it is not applied."
    named = f"“{label}” " if label else ""
    what = f"the {named}{target.singular}" if len(nodes) == 1 else f"{len(nodes)} {named}{target.plural}"
    return Done(f"Removed {what}.")


def _add(tree: LexborHTMLParser, clause: Clause) -> str:
    kind, into = clause.kind or "", clause.into
    name = _KIND_NAMES.get(kind, kind)
    if kind in ("header", "footer") and _find_one(tree, kind) is not None:
        return f"The page already has a {kind}."
    before = len(_select(tree, _KIND_SELECTOR[kind]))
    lacked = into is not None and _find_one(tree, into) is None
    node = _add_node(tree, kind, clause.label, into, top=clause.top)
    changes = _decls(clause.styles, node, None)
    for n, decls in changes:
        _set_styles(n, decls)
    grew = len(_select(tree, _KIND_SELECTOR[kind])) == before + 1
    if (
        not grew
        or (clause.label and not _same_text(node, clause.label))
        or not all(_has(n, d) for n, d in changes)
    ):
        return f"“{clause.said}” did not take effect, so it is not applied."
    what = f"a “{clause.label}” {name}" if clause.label else f"a {name}"
    where = (
        f" to the {into}" + (f" (the page had no {into}, so it has one now)" if lacked else "")
        if into
        else ""
    )
    styled = f" and {_past(clause.styles, 'it')}" if clause.styles else ""
    return Done(f"Added {what}{where}{styled}.")


def _retext(tree: LexborHTMLParser, clause: Clause) -> str:
    target, new, old = clause.targets[0], clause.label or "", clause.old
    if not new:
        return f"Say what the {target.singular} should say in “{clause.said}”."
    nodes = _find(tree, target, every=True)
    if old:
        nodes = [n for n in nodes if _same_text(n, old)]
        if not nodes:
            return f"The page has no {target.singular} “{old}”."
    elif not nodes:
        return f"The page has no {target.singular} to change."
    elif len(nodes) > 1 and not target.one:
        example = _text(nodes[0])
        return (
            f"The page has {len(nodes)} {target.plural}; say which one, "
            f"e.g. change the {target.singular} “{example}” to “{new}”."
        )
    node = nodes[0]
    was = _text(node)
    if _same_text(node, new):
        return f"Nothing changed: the {target.singular} already says “{new}”."
    if node.tag == "input":
        node.attrs["value"] = new
    else:
        node.inner_html = _escape(new)
    if not _same_text(node, new):
        return f"“{clause.said}” did not take effect, so it is not applied."
    return Done(f"Changed the {target.singular} “{was}” to “{new}”.")


# The generated pages' theme variables (cards and the header follow them) and the body's own colours.
_DARK = {
    "--bg": "#111827",
    "--surface": "#1f2937",
    "--text": "#e5e7eb",
    "--muted": "#9ca3af",
    "--header": "#0b1220",
    "--header-text": "#e5e7eb",
    "background": "#111827",
    "color": "#e5e7eb",
}


def _theme(tree: LexborHTMLParser, clause: Clause) -> str:
    assert tree.body is not None
    changes = [(tree.body, _DARK)]
    changes += [(n, {"background": "#1f2937", "color": "#e5e7eb"}) for n in _select(tree, ".card, article")]
    changes += [(n, {"background": "#0b1220", "color": "#e5e7eb"}) for n in _select(tree, "header, footer")]
    if all(_has(n, d) for n, d in changes):
        return "Nothing changed: the page already has the dark theme."
    for node, decls in changes:
        _set_styles(node, decls)
    if not all(_has(n, d) for n, d in changes):
        return f"“{clause.said}” did not take effect, so it is not applied."
    return Done("Switched the page to a dark theme.")


_EDITS: dict[str, Callable[[LexborHTMLParser, Clause], str]] = {
    "style": _restyle,
    "remove": _remove,
    "add": _add,
    "text": _retext,
    "theme": _theme,
}


def edit(tree: LexborHTMLParser, clause: Clause) -> str:
    """Apply one understood clause to ``tree``: a :class:`Done` sentence when the DOM after it
    shows the change, else a plain sentence saying why nothing was changed."""
    assert clause.action is not None
    return _EDITS[clause.action](tree, clause)


# --- looks ----------------------------------------------------------------------------------------

_BASE_SIZE = {"h1": 2.8, "h2": 1.5, "h3": 1.25, "body": 1.0}
_ALIGN = {"center": "center", "left": "flex-start", "right": "flex-end"}
_CONTAINERS = ("page", "content", "header", "footer", "card")


def _dark(hex_colour: str) -> bool:
    return contrast(hex_colour, "#ffffff") > contrast(hex_colour, "#111111")


def _decls(
    parts: Sequence[StylePart], node: LexborNode, target: Target | None
) -> list[tuple[LexborNode, dict[str, str]]]:
    """The inline declarations ``parts`` mean for ``node`` (and, for colours, the links in it)."""
    fill = target.fill if target else ("color" if node.tag in ("a", "h2", "p") else "background")
    kind = target.kind if target else ""
    own: dict[str, str] = {}
    more: list[tuple[LexborNode, dict[str, str]]] = []
    tint = next((p.value for p in parts if p.prop == "text"), None)
    for part in parts:
        if part.prop == "fill" and fill == "background":
            ink = tint or ("#ffffff" if _dark(part.value) else "#111111")
            own.update(background=part.value, color=ink)
            if kind in ("header", "footer"):  # links there inherit or carry the accent: make them readable
                more += [(a, {"color": ink}) for a in node.css("a")]
        elif part.prop in ("fill", "text") and not (part.prop == "fill" and tint and fill == "color"):
            own["color"] = part.value
            if kind == "text":
                own.update({"--text": part.value, "--muted": part.value})
            elif kind in ("header", "footer"):
                more += [(a, {"color": part.value}) for a in node.css("a")]
        elif part.prop == "size":
            own["font-size"] = _scaled(_styles(node).get("font-size"), node.tag, float(part.value))
        elif part.prop == "align":
            if kind in _CONTAINERS:
                own.update({"text-align": part.value, "align-items": _ALIGN[part.value]})
                more += [(n, {"align-items": _ALIGN[part.value]}) for n in node.css(".stack")]
            elif node.tag in ("h1", "h2", "h3", "h4", "h5", "h6", "p"):
                own.update({"text-align": part.value, "align-self": "stretch"})
            else:
                own["align-self"] = _ALIGN[part.value]
        elif part.prop == "bold":
            own["font-weight"] = part.value
        elif part.prop == "italic":
            own["font-style"] = part.value
        elif part.prop == "round":
            own["border-radius"] = "999px" if kind == "button" or node.tag == "button" else "18px"
        elif part.prop == "font":
            own["font-family"] = part.value
    return [(node, own), *more]


def _scaled(current: str | None, tag: str | None, factor: float) -> str:
    m = re.fullmatch(r"\s*([\d.]+)\s*(px|rem|em|%)\s*", current or "")
    value, unit = (float(m.group(1)), m.group(2)) if m else (_BASE_SIZE.get(tag or "", 1.0), "rem")
    if not m and tag == "body":
        value, unit = 16.0, "px"
    return f"{round(value * factor, 2):g}{unit}"


def _past(parts: Sequence[StylePart], noun: str) -> str:
    """ "made the header dark blue with white text and centred it": what ``parts`` did to ``noun``."""
    said: list[str] = []
    tint = next((p for p in parts if p.prop == "text"), None)
    for part in parts:
        if part.prop == "fill":
            said.append(f"made {noun} {part.words}" + (f" with {tint.words} text" if tint else ""))
        elif part.prop == "text" and not any(p.prop == "fill" for p in parts):
            said.append(f"gave {noun} {part.words} text")
        elif part.prop in ("size", "bold", "italic"):
            said.append(f"made {noun} {part.words}")
        elif part.prop == "align":
            said.append(f"centred {noun}" if part.value == "center" else f"aligned {noun} {part.value}")
        elif part.prop == "round":
            said.append(f"rounded the corners of {noun}")
        elif part.prop == "font":
            said.append(f"set {noun} in a {part.words} font")
    return " and ".join(said)


def _verb(parts: Sequence[StylePart]) -> str:
    """The infinitive of :func:`_past` without its object: "make dark blue", "centre"."""
    return (
        _past(parts, "\0")
        .replace(" \0", "")
        .replace("\0 ", "")
        .replace("made", "make")
        .replace("gave", "give")
        .replace("centred", "centre")
        .replace("aligned", "align")
        .replace("rounded", "round")
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


# --- new elements ---------------------------------------------------------------------------------

_KIND_SELECTOR = {
    "header": "header, .site-header, [role=banner]",
    "footer": "footer, .site-footer, [role=contentinfo]",
    "button": "button, .button, input[type=submit], input[type=button]",
    "link": "a",
    "heading": "h1, h2, h3, h4, h5, h6",
    "paragraph": "p",
    "divider": "hr",
    "image": "figure, img",
    "search": "input[type=search]",
    "input": "input, select, textarea",
}
_KIND_NAMES = {"search": "search box", "input": "text field"}


def _markup(kind: str, label: str | None) -> tuple[str, dict[str, str], str]:
    """(tag, attributes, inner HTML) of a new ``kind`` element in the generated pages' own style."""
    text = _escape(label or "")
    if kind == "button":
        return "button", {"type": "button", "class": "button", "data-kind": "button"}, text or "Continue"
    if kind == "link":
        return "a", {"class": "link", "href": "#", "data-kind": "link"}, text or "Learn more"
    if kind == "heading":
        return "h2", {"data-kind": "heading"}, text or "New section"
    if kind == "paragraph":
        return "p", {"class": "text", "data-kind": "paragraph"}, text or "Write a few words here."
    if kind == "divider":
        return "hr", {"data-kind": "divider"}, ""
    if kind == "image":
        caption = f"<figcaption>{text}</figcaption>" if text else ""
        attrs = {"class": "media", "data-kind": "image", "style": "aspect-ratio: 16 / 9"}
        return "figure", attrs, _placeholder_svg(480, 270) + caption
    hint = label or ("Search" if kind == "search" else "Type here")
    kind_attrs = {"type": "search", "aria-label": hint} if kind == "search" else {"type": "text"}
    return "input", {**kind_attrs, "class": "input", "data-kind": "text_input", "placeholder": hint}, ""


def _add_node(
    tree: LexborHTMLParser, kind: str, label: str | None, into: str | None, *, top: bool
) -> LexborNode:
    """Create a ``kind`` element (with content from the page where none is given) and place it."""
    body = tree.body
    assert body is not None
    brand = _brand(tree)
    stock = any(".site-header" in s.text() for s in tree.css("style"))  # our stylesheet styles it
    if kind == "header":
        inner = (
            f'<nav class="nav"><a class="brand" href="#" data-kind="link">{_escape(label or brand)}</a></nav>'
        )
        node = _element(tree, "header", {"class": "site-header", "data-kind": "navbar"}, inner)
        if not stock:
            _set_styles(node, {"padding": "14px 24px"})
        first = next((c for c in _children(body) if c.tag not in ("script", "style")), None)
        return _insert(node, body, before=first)
    if kind == "footer":
        links = ' · <a href="#" class="link">Privacy</a> · <a href="#" class="link">Contact</a>'
        inner = f"<p>{_escape(label)}</p>" if label else f"<p>© {_escape(brand)}{links}</p>"
        node = _element(tree, "footer", {"class": "site-footer", "data-kind": "footer"}, inner)
        _set_styles(node, {"text-align": "center"} if stock else {"padding": "24px", "text-align": "center"})
        return _insert(node, body)
    holder = tree.css_first("main") or body
    node = _element(tree, *_markup(kind, label))
    placed = node  # what goes into ``holder``: the node, or the menu item that holds it
    if into is not None:
        container = _find_one(tree, into) or _add_node(tree, into, None, None, top=False)
        menu = container.css_first("ul")
        if kind == "link" and menu is not None:  # a menu item, like the drawn ones
            placed = _element(tree, "li", {}, f'<a href="#" data-kind="link">{_escape(label or "Link")}</a>')
            holder = menu
        else:
            holder = container.css_first("nav") or container.css_first("p") or container
    kids = list(_children(holder))
    footer = _find_one(tree, "footer")
    if top and kids:
        live = _insert(placed, holder, before=kids[0])
    elif holder.mem_id == body.mem_id and footer is not None and _is_child(footer, body):
        live = _insert(placed, holder, before=footer)  # new content goes above the footer
    else:
        live = _insert(placed, holder)
    return (live.css_first("a") or live) if placed is not node else live


def _insert(node: LexborNode, holder: LexborNode, *, before: LexborNode | None = None) -> LexborNode:
    """Put ``node`` into ``holder`` (before ``before``) and return it as it now is in the tree:
    the parser inserts a copy, so a handle on the original would edit nothing on the page."""
    if before is not None:
        before.insert_before(node)
        live = before.prev
    else:
        holder.insert_child(node)
        live = holder.last_child
    assert live is not None and live.tag == node.tag
    if live.tag not in ("li", "a", "button", "input"):
        live.insert_after("\n")  # one element a line, as the generated pages have them
    return live


def _is_child(node: LexborNode, parent: LexborNode) -> bool:
    return node.parent is not None and node.parent.mem_id == parent.mem_id


def _brand(tree: LexborHTMLParser) -> str:
    """The page's name, for a new header or footer: its brand, first heading or title."""
    for selector in (".brand", "h1", "h2", "h3", "title"):
        node = tree.css_first(selector)
        if node is not None and _text(node):
            return _text(node)
    return "Home"


# --- DOM helpers ----------------------------------------------------------------------------------


def parse(page: str) -> LexborHTMLParser:
    return LexborHTMLParser(page)


def serialise(tree: LexborHTMLParser) -> str:
    """The edited page, laid out like the pages SeeSay writes where the serialiser runs lines together."""
    html = tree.html or ""
    m = re.match(r"(?is)(<!DOCTYPE[^>]*>)\s*(<html[^>]*>)\s*(<head[^>]*>)", html)
    if m:
        html = f"{m[1]}\n{m[2]}\n{m[3]}" + html[m.end() :]
    html = re.sub(r"<(rect|circle|path|line|polyline|polygon|ellipse)\b([^<>]*)></\1>", r"<\1\2/>", html)
    return re.sub(r"\s*</body>\s*</html>\s*$", "\n</body>\n</html>\n", html)


def _element(tree: LexborHTMLParser, tag: str, attrs: dict[str, str], inner: str) -> LexborNode:
    node = tree.create_node(tag)
    for name, value in attrs.items():
        node.attrs[name] = value
    if inner:
        node.inner_html = inner
    return node


def _children(node: LexborNode) -> Iterator[LexborNode]:
    return iter(node.iter(include_text=False))


def elements(tree: LexborHTMLParser) -> list[LexborNode]:
    root = tree.root
    return [] if root is None else [n for n in root.traverse(include_text=False) if n.is_element_node]


def _find(tree: LexborHTMLParser, target: Target, *, every: bool = False) -> list[LexborNode]:
    """The elements ``target`` names, outermost only (a figure, not also the img in it)."""
    nodes = _select(tree, target.selector) or (_select(tree, target.fallback) if target.fallback else [])
    ids = {n.mem_id for n in nodes}
    outer = [n for n in nodes if not any(a.mem_id in ids for a in _ancestors(n))]
    return outer if every or not target.one else outer[:1]


def _select(tree: LexborHTMLParser, selector: str) -> list[LexborNode]:
    """``selector``'s matches once each (a comma list returns a node once for every part it matches)."""
    seen: set[int] = set()
    out = []
    for node in tree.css(selector):
        if node.mem_id not in seen:
            seen.add(node.mem_id)
            out.append(node)
    return out


def _find_one(tree: LexborHTMLParser, kind: str) -> LexborNode | None:
    return tree.css_first(_KIND_SELECTOR[kind])


def _ancestors(node: LexborNode) -> Iterator[LexborNode]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _styles(node: LexborNode) -> dict[str, str]:
    out: dict[str, str] = {}
    for decl in (node.attributes.get("style") or "").split(";"):
        name, colon, value = decl.partition(":")
        if colon and name.strip():
            out[name.strip().lower()] = value.strip()
    return out


def _set_styles(node: LexborNode, decls: dict[str, str]) -> None:
    if not decls:
        return
    styles = {**_styles(node), **decls}
    node.attrs["style"] = "; ".join(f"{k}: {v}" for k, v in styles.items())


def _has(node: LexborNode, decls: dict[str, str]) -> bool:
    """Whether ``node`` is on the page (not a detached copy) and carries ``decls``."""
    return node.parent is not None and decls.items() <= _styles(node).items()


def _text(node: LexborNode) -> str:
    if node.tag in ("input", "textarea"):
        return (node.attributes.get("value") or node.attributes.get("placeholder") or "").strip()
    return re.sub(r"\s+", " ", node.text(deep=True, separator=" ", strip=True)).strip()


def _same_text(node: LexborNode, text: str) -> bool:
    return _text(node).casefold() == re.sub(r"\s+", " ", text).strip().casefold()


def _signature(node: LexborNode) -> tuple[str, str]:
    return node.tag or "", _text(node)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fingerprint(tree: LexborHTMLParser) -> tuple[Any, ...]:
    """The DOM as comparable data: every element with its attributes, every non-blank text."""
    root = tree.root
    if root is None:
        return ()
    out: list[Any] = []
    for node in root.traverse(include_text=True):
        if node.is_text_node:
            text = (node.text_content or "").strip()
            if text:
                out.append(text)
        elif node.is_element_node:
            out.append((node.tag, tuple(sorted((k, v or "") for k, v in node.attributes.items()))))
    return tuple(out)


def texts(tree: LexborHTMLParser) -> list[str]:
    return [
        t
        for n in (tree.root.traverse(include_text=True) if tree.root is not None else [])
        if n.is_text_node
        and (t := (n.text_content or "").strip())
        and n.parent is not None
        and n.parent.tag not in ("style", "script")
    ]


def looks(tree: LexborHTMLParser) -> tuple[Counter[str], list[str]]:
    """The page's styles: its inline ones (wherever they are) and its stylesheets."""
    inline = Counter(style for n in elements(tree) if (style := n.attributes.get("style")))
    return inline, [s.text() for s in tree.css("style")]
