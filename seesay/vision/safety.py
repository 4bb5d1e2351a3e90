"""Generated pages are untrusted: checks for what they reference, and how saved pages are sealed.

A model (or a user's hand edit) can put anything in a page. The preview sandbox
(``seesay.app.preview``) blocks the network whatever the page says; these helpers
catch the same things *in the text*, so validation can reject a reply that would
fetch something, and so a page saved to disk carries a Content-Security-Policy that
keeps it offline when opened in any browser.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

CSP = (
    "default-src 'none'; img-src data: blob:; media-src data: blob:; font-src data:; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'none'; frame-src 'none'; "
    "child-src 'none'; object-src 'none'; form-action 'none'; base-uri 'none'"
)
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
SAVED_HEADER = """<!--
  Made with SeeSay from a sketch. This page is self-contained: it loads nothing from
  the network or your disk. The Content-Security-Policy below forbids every network
  request (fetch, images, fonts, frames, form posts), so it stays offline in any browser.
-->"""

_URL_ATTRS = {
    "src",
    "href",
    "action",
    "formaction",
    "data",
    "poster",
    "background",
    "srcset",
    "xlink:href",
    "ping",
    "manifest",
}
_NETWORK_JS = re.compile(
    r"\b(fetch|XMLHttpRequest|WebSocket|EventSource|sendBeacon|importScripts|"
    r"RTCPeerConnection|window\.open|location\s*(\.href)?\s*=|location\.(assign|replace)|"
    r"import\s*\()",
    re.I,
)
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]+)|@import\s+['\"]?([^'\";\s]+)", re.I)


def allowed_url(url: str) -> bool:
    """In-page anchors, data/blob URLs and javascript:void links only."""
    u = url.strip().lower()
    return (
        not u
        or u.startswith(("#", "data:", "blob:", "about:blank", "javascript:void"))
        or u in ("javascript:", "javascript:;")
    )


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in.append(tag)
        if tag == "base":
            self.problems.append("uses <base>")
        if tag == "meta" and any(k == "http-equiv" and (v or "").lower() == "refresh" for k, v in attrs):
            self.problems.append("uses a meta refresh")
        for key, value in attrs:
            key = key.lower()
            if (
                key in _URL_ATTRS
                and value
                and not all(allowed_url(part.split()[0]) for part in value.split(",") if part.strip())
            ):
                self.problems.append(f"<{tag} {key}> points outside the page: {value[:60]}")
            elif key.startswith("on") and value and _NETWORK_JS.search(value):
                self.problems.append(f"<{tag} {key}> handler reaches the network")
            elif key == "style" and value:
                self._css(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            while self._in and self._in.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        current = self._in[-1] if self._in else ""
        if current == "script":
            if _NETWORK_JS.search(data):
                self.problems.append("a script reaches the network or navigates away")
        elif current == "style":
            self._css(data)
        elif data.strip():
            self.text.append(data.strip())

    def _css(self, css: str) -> None:
        for m in _CSS_URL.finditer(css):
            url = m.group(1) or m.group(2) or ""
            if not allowed_url(url):
                self.problems.append(f"CSS loads {url[:60]}")


def scan(html: str) -> tuple[list[str], list[str], str]:
    """(problems, tag names in order, visible text) of a page; problems empty means safe to keep."""
    parser = _Scan()
    try:
        parser.feed(html)
        parser.close()
    except Exception as e:  # html.parser is lenient; anything it raises means unusable markup
        return [f"does not parse: {e}"], [], ""
    return parser.problems, parser.tags, " ".join(parser.text)


def with_csp(html: str) -> str:
    """Put the no-network CSP first in <head> (adding a head when the page has none)."""
    if CSP_META in html:
        return html
    m = re.search(r"<head[^>]*>", html, re.I)
    if m:
        return html[: m.end()] + "\n" + CSP_META + html[m.end() :]
    m = re.search(r"<html[^>]*>", html, re.I)
    if m:
        return html[: m.end()] + f"\n<head>{CSP_META}</head>" + html[m.end() :]
    return f"<!DOCTYPE html>\n<html><head>{CSP_META}</head><body>\n{html}\n</body></html>"


def for_saving(html: str) -> str:
    """The page as written to disk: header comment describing the sandbox, plus the CSP."""
    body = with_csp(html)
    if SAVED_HEADER in body:
        return body
    m = re.match(r"\s*<!DOCTYPE[^>]*>", body, re.I)
    if m:
        return body[: m.end()] + "\n" + SAVED_HEADER + body[m.end() :]
    return SAVED_HEADER + "\n" + body
