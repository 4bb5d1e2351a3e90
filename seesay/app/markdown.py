"""Markdown (what models write) to the HTML subset Qt's rich text engine draws well.

Pure functions, no Qt import: the chat view calls :func:`render` for every throttled
repaint of a streaming reply, and tests check the output as plain strings. Qt's rich
text ignores most CSS classes and many properties, so every style that matters is
written inline (tables get ``border``/``cellpadding`` attributes, code is coloured by
Pygments with ``noclasses``). Raw HTML in the source is never passed through: a model
or a pasted prompt must not be able to inject markup or links into the window.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from seesay.app import theme

COPY_SCHEME = "copy"
MONO = "'DejaVu Sans Mono', 'Liberation Mono', 'Menlo', 'Consolas', monospace"


def _styles(c: theme.Colours) -> dict[str, str]:
    """Per-tag inline styles (Qt honours these; it ignores stylesheets with classes)."""
    return {
        "h1": "font-size: 17pt; font-weight: 600; margin-top: 12px; margin-bottom: 6px;",
        "h2": "font-size: 15pt; font-weight: 600; margin-top: 12px; margin-bottom: 6px;",
        "h3": "font-size: 13pt; font-weight: 600; margin-top: 10px; margin-bottom: 4px;",
        "h4": "font-size: 12pt; font-weight: 600; margin-top: 8px; margin-bottom: 4px;",
        "h5": "font-size: 11pt; font-weight: 600;",
        "h6": f"font-size: 11pt; font-weight: 600; color: {c.muted};",
        "p": "margin-top: 0px; margin-bottom: 8px;",
        "blockquote": f"color: {c.muted}; margin-left: 12px; margin-top: 4px; margin-bottom: 8px;",
        "th": f"background-color: {c.code_bg}; font-weight: 600;",
        "code": f"font-family: {MONO}; background-color: {c.code_header}; color: {c.text};",
        "a": f"color: {c.link}; text-decoration: none;",
        "ul": "margin-top: 0px; margin-bottom: 8px;",
        "ol": "margin-top: 0px; margin-bottom: 8px;",
    }


# Shared by user bubbles and replies so both read the same.
DOCUMENT_CSS = "body { line-height: 140%; } li { margin-bottom: 2px; }"


@dataclass(frozen=True)
class Rendered:
    """HTML plus the raw text of each code block, indexed by the N of its ``copy:N`` link."""

    html: str
    code_blocks: tuple[str, ...]


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("code_block", _render_fence)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule(
        "hr", lambda *_a: f'<hr style="background-color: {theme.colours().strong_border};" />\n'
    )
    return md


@lru_cache(maxsize=2)
def _formatter(dark: bool) -> HtmlFormatter:
    return HtmlFormatter(noclasses=True, nowrap=True, style="monokai" if dark else "default")


def render(text: str) -> Rendered:
    """Markdown to Qt rich text; safe to call on a half-streamed reply (open fences close)."""
    md = _parser()
    env: dict[str, Any] = {"code_blocks": []}
    tokens = md.parse(text, env)
    _style_tokens(tokens)
    body = md.renderer.render(tokens, md.options, env)
    return Rendered(body, tuple(env["code_blocks"]))


def render_plain(text: str, limit: int = 20_000) -> str:
    """User text as typed (escaped, line breaks kept); huge pastes are shortened for display only.

    Drawing a megabyte paste would freeze the window for seconds; the full text is still
    what was stored and sent.
    """
    shown = text if len(text) <= limit else text[:limit]
    body = html.escape(shown).replace("\n", "<br />")
    if len(text) > limit:
        hidden = len(text) - limit
        c = theme.colours()
        body += (
            f'<br /><span style="color: {c.muted}; font-style: italic;">… {hidden:,} more '
            "characters not shown</span>"
        )
    return f'<p style="margin: 0px;">{body}</p>'


def code_block_html(code: str, language: str, index: int) -> str:
    """A padded, bordered box with the language, a Copy link and highlighted code."""
    label = html.escape(language or "text")
    c = theme.colours()
    highlighted = highlight(code, _lexer(language), _formatter(c.dark)).rstrip("\n")
    return (
        f'<table width="100%" cellspacing="0" cellpadding="8" border="1" '
        f'style="border-collapse: collapse; border-color: {c.strong_border}; border-style: solid; '
        f'margin-top: 4px; margin-bottom: 10px;">'
        f'<tr><td style="background-color: {c.code_header}; border-color: {c.strong_border};">'
        f'<table width="100%" cellspacing="0" cellpadding="0" border="0"><tr>'
        f'<td><span style="color: {c.muted}; font-size: 9pt;">{label}</span></td>'
        f'<td align="right"><a href="{COPY_SCHEME}:{index}" '
        f'style="color: {c.link}; text-decoration: none; font-size: 9pt;">Copy</a></td>'
        f"</tr></table></td></tr>"
        f'<tr><td style="background-color: {c.code_bg}; border-color: {c.strong_border};">'
        f'<pre style="font-family: {MONO}; font-size: 10pt; white-space: pre-wrap; margin: 0px;">'
        f"{highlighted}</pre></td></tr></table>\n"
    )


def copy_index(href: str) -> int | None:
    """The code block number in a ``copy:N`` link, or None for any other link."""
    scheme, _, rest = href.partition(":")
    if scheme != COPY_SCHEME or not rest.isdigit():
        return None
    return int(rest)


def _lexer(language: str) -> Any:
    name = (language or "").strip().lower()
    if not name:
        return TextLexer()
    try:
        return get_lexer_by_name(name, stripnl=False)
    except ClassNotFound:
        return TextLexer()


def _render_fence(_self: Any, tokens: list[Token], idx: int, _options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    language = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
    blocks: list[str] = env.setdefault("code_blocks", [])
    code = token.content
    blocks.append(code.rstrip("\n"))
    return code_block_html(code, language, len(blocks) - 1)


def _render_hr(*_args: Any) -> str:
    return f'<hr style="background-color: {theme.colours().strong_border};" />\n'


def _render_table_open(_self: Any, _tokens: list[Token], _idx: int, _options: Any, _env: Any) -> str:
    c = theme.colours()
    return (
        f'<table border="1" cellspacing="0" cellpadding="6" style="border-collapse: collapse; '
        f'border-color: {c.strong_border}; border-style: solid; margin-top: 4px; margin-bottom: 10px;">\n'
    )


def _style_tokens(tokens: list[Token], styles: dict[str, str] | None = None) -> None:
    """Add inline styles to the tags Qt would otherwise draw too large, too tight or unstyled."""
    styles = styles or _styles(theme.colours())
    for token in tokens:
        if token.children:
            _style_tokens(token.children, styles)
        if token.nesting == -1:
            continue
        style = styles.get(token.tag)
        if style is None or token.type in ("fence", "code_block"):
            continue
        existing = token.attrGet("style")
        token.attrSet("style", f"{existing}; {style}" if existing else style)
