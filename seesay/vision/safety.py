"""Generated pages are untrusted: checks for what they reference, and how shown and saved pages are sealed.

A model (or a user's hand edit, or a prompt injected into either) can put anything in
a page. The preview sandbox (``seesay.app.preview``) blocks the network whatever the
page says; these helpers catch the same things *in the text*, so validation can reject
a reply that would fetch something, and they seal pages that leave the preview:

- :func:`with_csp` puts a no-network Content-Security-Policy ``<meta>`` first in the
  real ``<head>``, found by a WHATWG HTML parser (not a pattern, which a ``<header>`` or
  a comment fools). A meta CSP only governs what is parsed after it, so nothing of the
  page may come first.
- :func:`for_saving` writes a page that also cannot navigate away. CSP cannot stop
  ``location = …``, ``<meta http-equiv=refresh>``, ``window.open`` or form posts (and a
  ``<meta>`` CSP ignores ``sandbox``), so the saved file is a small wrapper that runs
  the sealed page in ``<iframe sandbox="allow-scripts" srcdoc=…>``: no top navigation,
  no popups, no forms, an opaque origin, and its own navigations fall under the
  wrapper's ``frame-src 'none'``.
- WebRTC is outside CSP in every shipping Chromium: :data:`WEBRTC_GUARD` removes it from
  the page's realm and from every frame the page makes, and
  :data:`CHROMIUM_ISOLATION_FLAGS` turn its transports off in a Chromium we start.

Left open in a browser we do not start: Chromium opens the TCP connection a
``<link rel=preconnect>`` asks for whatever the CSP says (no request is sent on it, but
the host name is looked up). Saved pages lose the hints they carry; one a script adds
later is still opened. Where we start Chromium, the flags' dead proxy stops it.
"""

from __future__ import annotations

import html as _html
import re
from html.parser import HTMLParser
from typing import Any

CSP = "; ".join(
    [
        "default-src 'none'",
        "img-src data: blob:",
        "media-src data: blob:",
        "font-src data:",
        "style-src 'unsafe-inline'",
        "script-src 'unsafe-inline'",
        "connect-src 'none'",
        "frame-src 'none'",
        "child-src 'none'",
        "worker-src 'none'",
        "object-src 'none'",
        "manifest-src 'none'",
        "form-action 'none'",
        "base-uri 'none'",
        # CSP3's WebRTC switch: engines that implement it refuse peer connections; the
        # others (Chromium included) ignore it with a console note, and WEBRTC_GUARD covers them.
        "webrtc 'block'",
    ]
)
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
NO_DNS_PREFETCH_META = '<meta http-equiv="x-dns-prefetch-control" content="off">'

# Chromium switches for an engine that shows untrusted pages. There is no switch that turns
# WebRTC off: the IP-handling policy stops every UDP transport (STUN, TURN over UDP, peer
# candidates), and TCP transports (TURN over TCP/TLS) must then go through the proxy, which
# is a port nothing can listen on (0), as must every other connection (preconnect hints,
# which no CSP governs, included). Loopback is not exempt from the proxy either, so a page
# cannot reach local services by IP. Only for engines that need no network at all.
CHROMIUM_ISOLATION_FLAGS = (
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--proxy-server=socks5://127.0.0.1:0",
    "--proxy-bypass-list=<-loopback>",
)

# Removes WebRTC's constructors from a page and from each same-origin frame it creates, before
# any script of that frame can use them. A new frame's window is reachable synchronously
# (``frames[0]`` right after ``appendChild``), so every DOM insertion path is wrapped to sweep
# the frame tree afterwards; parser-made frames are swept by a MutationObserver, whose callback
# runs before the parser's next script; frames that navigate are swept on load; and a srcdoc
# frame gets this guard prepended before its document is created. Best effort in a browser we
# do not start; where we start Chromium, CHROMIUM_ISOLATION_FLAGS stop the transports too.
WEBRTC_GUARD = r"""(function seesayWebrtcGuard() {
  "use strict";
  const mark = "__seesayWebrtcGuard";
  if (window[mark]) return;
  const tag = "<script>(" + seesayWebrtcGuard.toString() + ")();<\/script>";
  const names = ["RTCPeerConnection", "webkitRTCPeerConnection", "RTCIceTransport",
                 "RTCDataChannel", "RTCSessionDescription", "RTCIceCandidate", "RTCQuicTransport"];
  const inserters = {
    Node: ["appendChild", "insertBefore", "replaceChild"],
    Element: ["append", "prepend", "before", "after", "replaceWith", "replaceChildren",
              "insertAdjacentElement", "insertAdjacentHTML", "setHTMLUnsafe", "setAttribute",
              "setAttributeNS", "setAttributeNode", "setAttributeNodeNS", "toggleAttribute"],
    CharacterData: ["before", "after", "replaceWith"],
    Document: ["write", "writeln", "append", "prepend", "replaceChildren", "open", "execCommand"],
    DocumentFragment: ["append", "prepend", "replaceChildren"],
    ShadowRoot: ["setHTMLUnsafe"],
    Range: ["insertNode", "surroundContents"],
  };
  const setters = {
    Element: ["innerHTML", "outerHTML"],
    ShadowRoot: ["innerHTML"],
    Attr: ["value", "nodeValue", "textContent"],
    HTMLIFrameElement: ["srcdoc", "src"],
    HTMLFrameElement: ["src"],
  };
  const owners = ["HTMLIFrameElement", "HTMLFrameElement", "HTMLObjectElement"];
  // Read through this realm's own accessors: a page may shadow them on windows it made.
  const accessor = (name) => {
    const d = Object.getOwnPropertyDescriptor(window, name) ||
              Object.getOwnPropertyDescriptor(Window.prototype, name);
    return d && d.get ? (w) => d.get.call(w) : (w) => w[name];
  };
  const lengthOf = accessor("length");
  const ownerOf = accessor("frameElement");
  const getAttribute = Element.prototype.getAttribute;
  const setAttribute = Element.prototype.setAttribute;
  const seen = new WeakSet();
  const fixed = (obj, key, value) =>
    Object.defineProperty(obj, key, {value, writable: false, configurable: false, enumerable: false});
  const install = (w) => {  // once per document: a frame that navigates keeps its window proxy
    let doc = null;
    try { doc = w.document; } catch (e) { return; }  // another origin: out of this page's reach
    if (!doc || seen.has(doc)) return;
    seen.add(doc);
    try { fixed(w, mark, true); } catch (e) {}
    for (const n of names) { try { fixed(w, n, undefined); } catch (e) {} }
    for (const [iface, methods] of Object.entries(inserters)) {
      const proto = w[iface] && w[iface].prototype;
      if (!proto) continue;
      for (const m of methods) {
        const orig = proto[m];
        if (typeof orig !== "function") continue;
        const wrapped = function (...args) { try { return orig.apply(this, args); } finally { sweep(); } };
        try { fixed(proto, m, wrapped); } catch (e) {}
      }
    }
    const wrapAccessor = (proto, p, wrap) => {
      const d = Object.getOwnPropertyDescriptor(proto, p);
      if (!d) return;
      try { Object.defineProperty(proto, p, {...wrap(d), configurable: false, enumerable: d.enumerable}); }
      catch (e) {}
    };
    for (const [iface, props] of Object.entries(setters)) {
      const proto = w[iface] && w[iface].prototype;
      if (!proto) continue;
      for (const p of props) {
        wrapAccessor(proto, p, (d) => !d.set ? d : {
          get: d.get, set(v) { try { d.set.call(this, v); } finally { sweep(); } },
        });
      }
    }
    for (const iface of owners) {
      const proto = w[iface] && w[iface].prototype;
      if (!proto) continue;
      for (const p of ["contentWindow", "contentDocument"]) {
        wrapAccessor(proto, p, (d) => d.get ? {get() { sweep(); return d.get.call(this); }} : d);
      }
    }
    try {
      new w.MutationObserver(sweep).observe(doc, {childList: true, subtree: true, attributes: true});
      doc.addEventListener("load", sweep, true);
    } catch (e) {}
  };
  const walk = (w) => {
    install(w);
    let n = 0;
    try { n = lengthOf(w); } catch (e) { return; }
    for (let i = 0; i < n; i++) {
      let child = null;
      try { child = w[i]; } catch (e) {}
      if (!child) continue;
      try {  // a srcdoc frame gets a new document (and realm): the guard goes in first
        const owner = ownerOf(child);
        const doc = owner ? getAttribute.call(owner, "srcdoc") : null;
        if (doc !== null && !doc.startsWith(tag)) setAttribute.call(owner, "srcdoc", tag + doc);
      } catch (e) {}
      walk(child);
    }
  };
  let sweeping = false;
  const sweep = () => {
    if (sweeping) return;
    sweeping = true;
    try { walk(window); } finally { sweeping = false; }
  };
  sweep();
})();"""
WEBRTC_GUARD_TAG = f"<script>{WEBRTC_GUARD}</script>"

SAVED_HEADER = """<!--
  Made with SeeSay from a sketch. The page runs inside the sandboxed frame below (its code
  is the frame's srcdoc): it cannot navigate this tab, open windows or submit forms, and
  its Content-Security-Policy forbids every network request (fetch, images, fonts, frames),
  so it stays offline in any browser. SeeSay's Copy button gives the page's plain HTML.
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


# --- sealing -----------------------------------------------------------------------------------------


def _insert_first_in_head(html: str, block: str, *, drop_hints: bool = False) -> str:
    """``block`` (head elements) as the first children of the page's real <head>.

    The page is parsed by a WHATWG HTML parser (lexbor), so "the real <head>" is the one a
    browser builds: a ``<header>``, a ``<head`` in a comment or in a script, stray text
    before ``<html>`` are all placed as a browser places them, and the head is made when
    the page has none. The page is returned as it was when the block already leads its
    head; otherwise as the parsed document serialized, which a browser reads back as the
    same tree with ours first.
    """
    from selectolax.lexbor import LexborHTMLParser

    html = html.removeprefix("\ufeff")  # a browser drops the byte-order mark before parsing
    ours = list(_head(LexborHTMLParser(f"<head>{block}</head>")).iter())
    tree = LexborHTMLParser(html)
    head = _head(tree)
    hints = [
        n for n in tree.css("link[rel]") if _RESOURCE_HINTS & set((n.attributes["rel"] or "").lower().split())
    ]
    leading = list(head.iter(include_text=True, skip_empty=True))[: len(ours)]
    if [n.html for n in leading] == [n.html for n in ours] and not (drop_hints and hints):
        return html
    if drop_hints:
        for hint in hints:
            hint.decompose()
    first = head.child
    for node in ours:
        if first is None:
            head.insert_child(node)
        else:
            first.insert_before(node)
    return tree.html or ""


def _head(tree: Any) -> Any:
    """The document's <head>; the tree builder makes one for any input, even an empty one."""
    head = tree.head
    if head is None:
        raise ValueError("the HTML parser built a document without a <head>")
    return head


def with_csp(html: str) -> str:
    """The page with the no-network CSP as the first child of its real <head> (made if absent).

    Always inserted, whatever the page already says: another CSP of the page can only
    narrow what ours allows (several policies must all pass), never widen it."""
    return _insert_first_in_head(html, CSP_META + "\n")


# Links that make a browser connect (or look a name up) ahead of any request: CSP governs the
# requests, not these connections, so a browser we do not start would still open them.
_RESOURCE_HINTS = frozenset(
    {"preconnect", "dns-prefetch", "prefetch", "prerender", "preload", "modulepreload"}
)


def sealed(html: str) -> str:
    """The page for a browser we do not control: CSP, no DNS prefetch and the WebRTC guard,
    first in <head>, ahead of anything the page says; its resource-hint links removed (a
    hint a script adds later is still opened by Chromium: the one way out left there)."""
    block = f"{CSP_META}\n{NO_DNS_PREFETCH_META}\n{WEBRTC_GUARD_TAG}\n"
    return _insert_first_in_head(html, block, drop_hints=True)


_WRAPPER = """<!DOCTYPE html>
{header}
<html>
<head>
{csp}
{no_prefetch}
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>html, body {{ margin: 0; height: 100%; }} \
iframe {{ display: block; border: 0; width: 100%; height: 100%; }}</style>
</head>
<body><iframe title="{title}" sandbox="allow-scripts" srcdoc="{srcdoc}"></iframe></body>
</html>
"""
_WRAPPED = re.compile(
    re.escape(
        _WRAPPER.format(
            header=SAVED_HEADER,
            csp=CSP_META,
            no_prefetch=NO_DNS_PREFETCH_META,
            title="\0",
            srcdoc="\1",
        )
    )
    .replace("\0", '[^<&"]*(?:&[a-z#0-9]+;[^<&"]*)*')
    .replace("\1", '([^"]*)')
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.I | re.S)


def _srcdoc(html: str) -> str:
    """Escaped for a double-quoted attribute: only ``&`` and ``"`` mean anything there."""
    return html.replace("&", "&amp;").replace('"', "&quot;")


def _ours(html: str) -> bool:
    """Whether ``html`` is exactly what :func:`for_saving` writes. The frame's page is read back
    only through our own two escapes (any other character reference could decode one way here
    and another in a browser), and must itself be sealed."""
    wrapped = _WRAPPED.fullmatch(html)
    if not wrapped:
        return False
    raw = wrapped.group(1)
    inner = raw.replace("&quot;", '"').replace("&amp;", "&")
    return _srcdoc(inner) == raw and sealed(inner) == inner


def for_saving(html: str) -> str:
    """The page as written to disk or opened in a browser: the sealed page in a sandboxed
    frame of a sealed wrapper that explains itself in a header comment."""
    if _ours(html):
        return html  # saving a saved page again changes nothing
    m = _TITLE.search(html)
    title = " ".join(_html.unescape(m.group(1)).split())[:200] if m else ""
    return _WRAPPER.format(
        header=SAVED_HEADER,
        csp=CSP_META,
        no_prefetch=NO_DNS_PREFETCH_META,
        title=_html.escape(title or "Page made with SeeSay"),
        srcdoc=_srcdoc(sealed(html)),
    )
