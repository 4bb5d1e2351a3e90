"""Saved and exported pages protect themselves in a plain browser, where the preview's
sandbox does not exist: requests, datagrams and connections are counted at loopback listeners."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from seesay.vision import safety
from tests.app.isolation import (
    Listeners,
    hostile_page,
    listening,
    probe_in_browser,
    tricky_pages,
    way_out_pages,
)

pytestmark = pytest.mark.slow

# What each frame reports: did its own script run, what is the first thing in its <head>, and
# (in the hostile page) what became of its WebRTC attempts.
REPORT = (
    "JSON.stringify({ran: !!window.__ran || document.title === 'ran', title: document.title, "
    "first: document.head && document.head.firstElementChild ? "
    "document.head.firstElementChild.outerHTML.slice(0, 120) : null, rtc: window.__rtc || null, "
    "url: location.href})"
)


def _old_with_csp(html: str) -> str:
    """How pages were sealed before: a regex for <head...>, which also matches <header>."""
    m = re.search(r"<head[^>]*>", html, re.I)
    if m:
        return html[: m.end()] + "\n" + safety.CSP_META + html[m.end() :]
    return html


def _ours_first(first: str | None) -> bool:
    return (
        bool(first)
        and first.startswith('<meta http-equiv="Content-Security-Policy"')
        and ("default-src 'none'" in first)
    )


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) and value.startswith("{") else {}


def _write_pages(
    folder: Path,
    pages: Callable[[Listeners], dict[str, str]],
    *kinds: tuple[str, Listeners, Callable[[str], str]],
) -> tuple[list[str], list[Path]]:
    """Each kind's pages (aimed at its own listeners), sealed its way, as files: ("kind/name", path)."""
    names: list[str] = []
    files: list[Path] = []
    for kind, at, seal in kinds:
        (folder / kind).mkdir()
        for name, page in pages(at).items():
            path = folder / kind / f"{name}.html"
            path.write_text(seal(page), encoding="utf-8")
            names.append(f"{kind}/{name}")
            files.append(path)
    return names, files


def test_csp_is_first_in_the_real_head_of_tricky_pages(tmp_path: Path) -> None:
    with listening() as sealed_at, listening() as old_at:
        names, files = _write_pages(
            tmp_path, tricky_pages, ("sealed", sealed_at, safety.with_csp), ("old", old_at, _old_with_csp)
        )
        records = probe_in_browser(files, REPORT, late_ms=800)
        for name, record in zip(names, records, strict=True):
            report = _json(record["late"]["main"])
            assert report.get("ran"), (name, record)  # the page's own inline script still runs
            if name.startswith("sealed/"):
                assert _ours_first(report["first"]), (name, report["first"])
        assert sealed_at.nothing_arrived(), (sealed_at.arrived(), sealed_at.requests)
        # The harness sees leaks: the old placement let the <header> pages load what they wanted.
        leaked = {p.split("/")[1].split(".")[0].removesuffix("-fetch") for p in old_at.requests}
        assert {"header-first", "header-before-head"} <= leaked, old_at.requests


def test_saved_page_reaches_nothing(tmp_path: Path) -> None:
    """Subresources, fetch, XHR, WebSocket, beacon and WebRTC (STUN and TURN, from the page and
    from a frame it makes) from a saved page in a plain browser: nothing arrives anywhere. The
    page's <link rel=preconnect>, which Chromium opens whatever a CSP says, is dropped on saving."""
    with listening() as at:
        saved = tmp_path / "saved.html"
        saved.write_text(safety.for_saving(hostile_page(at, leave=False)), encoding="utf-8")
        (record,) = probe_in_browser([saved], REPORT, late_ms=2000)
        assert record["url"] == saved.as_uri()
        assert _ours_first(_json(record["late"]["main"])["first"])
        inner = [_json(f) for f in record["late"]["frames"]]
        assert inner and inner[0].get("ran"), record  # the page itself ran, in its sandboxed frame
        assert inner[0]["url"] == "about:srcdoc" and _ours_first(inner[0]["first"]), inner[0]
        assert inner[0]["rtc"] == ["refused", "refused"], inner[0]
        assert at.nothing_arrived(), (at.arrived(), at.requests)


def test_saved_page_cannot_navigate_away(tmp_path: Path) -> None:
    """location=, top.location, window.open, meta refresh (static and scripted), link clicks
    and form posts: from a saved page none reaches the listener; with the CSP alone, most do."""
    with listening() as saved_at, listening() as csp_only_at:
        names, files = _write_pages(
            tmp_path,
            way_out_pages,
            ("saved", saved_at, safety.for_saving),
            ("csp-only", csp_only_at, safety.with_csp),
        )
        records = probe_in_browser(files, REPORT, early_ms=200, late_ms=1800)
        for name, record, path in zip(names, records, files, strict=True):
            if not name.startswith("saved/"):
                continue
            assert record["url"] == path.as_uri(), (name, record)  # the tab never left the file
            early = [_json(f) for f in record["early"]["frames"]]
            assert early and early[0].get("ran"), (name, record)  # the page's script did run
        assert saved_at.nothing_arrived(), (saved_at.arrived(), saved_at.requests)
        # The harness sees navigations: with the CSP alone, JavaScript and refreshes got out.
        got_out = {p.split("?")[0].strip("/") for p in csp_only_at.requests}
        assert {"location", "top-location", "meta-refresh", "static-refresh", "link-click"} <= got_out, (
            got_out
        )


def test_saved_page_is_valid_and_stable() -> None:
    page = '<!DOCTYPE html><html><head><title>Tea &amp; "cakes"</title></head><body><p>hi</p></body></html>'
    saved = safety.for_saving(page)
    assert safety.for_saving(saved) == saved
    assert saved.startswith("<!DOCTYPE html>\n<!--\n  Made with SeeSay")
    assert '<iframe title="Tea &amp; &quot;cakes&quot;" sandbox="allow-scripts" srcdoc="' in saved
    # A page that imitates the wrapper but smuggles an unsealed page is wrapped again, also when
    # the seal is spelled with a reference a browser would not decode in an attribute ("&lt").
    for forged in (
        saved.replace(safety.CSP_META.replace('"', "&quot;"), "", 1),
        saved.replace("<script>(function seesayWebrtcGuard", "&ltscript>(function seesayWebrtcGuard", 1),
    ):
        assert forged != saved and safety.for_saving(forged) != forged


class _Opened(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_open_in_browser_hands_over_the_sealed_file(qtbot: Any) -> None:
    from seesay.app.sketch_studio import SketchStudio

    studio = SketchStudio()
    qtbot.addWidget(studio)
    opened = _Opened()
    QDesktopServices.setUrlHandler("file", opened, "open")  # the desktop's own hook for openUrl
    try:
        page = "<!DOCTYPE html><html><head><title>t</title></head><body><p>Hello</p></body></html>"
        studio.editor.setPlainText(page)
        studio.versions, studio.index = [(page, "test")], 0
        path = studio.open_in_browser()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert path is not None and [u.toLocalFile() for u in opened.urls] == [str(path)]
    assert path.read_text(encoding="utf-8") == safety.for_saving(page)
    studio.close()
