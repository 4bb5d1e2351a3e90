"""The preview sandbox sends nothing anywhere: requests, datagrams and connections are counted at
real loopback listeners (HTTP, a UDP "STUN server", a TCP "TURN server")."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

import pytest
from PySide6.QtCore import QUrl

from seesay.app.preview import SandboxedPreview
from tests.app.isolation import hostile_page, listening, tricky_pages

pytestmark = pytest.mark.slow


def run_js(qtbot: Any, view: SandboxedPreview, script: str) -> Any:
    box: list[Any] = []
    view.page().runJavaScript(script, 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10_000)
    return box[0]


def show(qtbot: Any, view: SandboxedPreview, page: str) -> None:
    with qtbot.waitSignal(view.loadFinished, timeout=20_000):
        view.set_html(page)


@pytest.mark.parametrize(
    ("inject_csp", "guard_webrtc"),
    [(False, False), (True, True)],
    ids=["interceptor+switches+navigation", "all-layers"],
)
def test_generated_page_reaches_nothing(qtbot: Any, inject_csp: bool, guard_webrtc: bool) -> None:
    with listening() as at:
        view = SandboxedPreview(inject_csp=inject_csp, guard_webrtc=guard_webrtc)
        qtbot.addWidget(view)
        refused: list[str] = []
        view.sandbox_page.navigationBlocked.connect(refused.append)
        view.resize(800, 600)
        view.show()
        show(qtbot, view, hostile_page(at))
        time.sleep(0.1)
        qtbot.wait(1800)  # the page's timers (form post, link, refresh, location, popup) all fire by then

        assert at.nothing_arrived(), (at.arrived(), at.requests)
        assert run_js(qtbot, view, "window.__ran === true && document.title") == "ran"  # its script ran
        assert run_js(qtbot, view, "document.getElementById('h').innerText") == "Still here"  # not navigated
        assert run_js(qtbot, view, "window.origin") == "null"  # an opaque origin
        assert run_js(qtbot, view, "window.__fetch") in ("blocked", "pending")
        assert run_js(qtbot, view, "document.getElementById('img').naturalWidth") == 0
        frame_text = run_js(
            qtbot,
            view,
            "(() => { try { const d = document.getElementById('frame')"
            ".contentDocument; return d ? d.body.innerText : ''; } "
            "catch (e) { return ''; } })()",
        )
        assert "root:" not in (frame_text or "")
        for way in ("/location", "/meta-refresh", "/top-location"):
            assert any(way in url for url in refused), (way, refused)
        if guard_webrtc:  # the page never had RTCPeerConnection, nor did the frame it made
            assert run_js(qtbot, view, "JSON.stringify(window.__rtc)") == '["refused","refused"]'
        else:  # WebRTC ran, and Chromium's switches kept STUN and TURN (UDP and TCP) at home
            assert run_js(qtbot, view, "JSON.stringify(window.__rtc)") == '["made","made"]'
        if not inject_csp:  # without the CSP the interceptor is what stopped them
            assert any("/fetch" in u for u in view.interceptor.blocked)
        # The counters themselves work: what comes from outside the sandbox is seen.
        urllib.request.urlopen(f"{at.http}/control", timeout=5).read()
        assert at.requests == ["/control"]
        view.close()


def test_csp_lands_first_in_the_real_head(qtbot: Any) -> None:
    """Pages that hide their <head> (a <header> first, <head> in a comment, our CSP's text in a
    comment, a weaker CSP of their own): ours is the first child of the real head, in force."""
    with listening() as at:
        view = SandboxedPreview()
        qtbot.addWidget(view)
        view.show()
        for name, page in tricky_pages(at).items():
            show(qtbot, view, page)
            assert run_js(qtbot, view, "document.title") == "ran", name  # the page's own script ran
            first = run_js(qtbot, view, "document.head.firstElementChild.outerHTML")
            assert first.startswith('<meta http-equiv="Content-Security-Policy"'), (name, first)
            assert "default-src 'none'" in first, (name, first)
            # In force, not just present: the CSP (before any interceptor) refuses a new image.
            run_js(
                qtbot,
                view,
                "window.__refused = []; document.addEventListener('securitypolicyviolation',"
                " e => window.__refused.push(e.violatedDirective)); "
                f"const i = new Image(); i.src = '{at.http}/{name}-late.png'; document.body.append(i); 1",
            )
            qtbot.waitUntil(lambda: bool(run_js(qtbot, view, "window.__refused.length")), timeout=5_000)
            assert run_js(qtbot, view, "window.__refused[0]") == "img-src", name
        qtbot.wait(300)
        assert at.nothing_arrived(), (at.arrived(), at.requests)
        view.close()


def test_only_the_preview_loads_the_preview(qtbot: Any, tmp_path: Any) -> None:
    """Navigation the widget did not start (another URL, a reload) is refused; set_html still works."""
    view = SandboxedPreview()
    qtbot.addWidget(view)
    view.show()
    show(qtbot, view, "<!DOCTYPE html><html><body><p id='p'>one</p></body></html>")
    refused: list[str] = []
    view.sandbox_page.navigationBlocked.connect(refused.append)
    page_file = tmp_path / "other.html"
    page_file.write_text("<p id='p'>other</p>")
    view.sandbox_page.load(QUrl.fromLocalFile(str(page_file)))
    qtbot.waitUntil(lambda: len(refused) >= 1, timeout=5_000)
    view.sandbox_page.triggerAction(view.sandbox_page.WebAction.Reload)
    qtbot.waitUntil(lambda: len(refused) >= 2, timeout=5_000)
    assert run_js(qtbot, view, "document.getElementById('p').innerText") == "one"
    show(qtbot, view, "<!DOCTYPE html><html><body><p id='p'>two</p></body></html>")
    assert run_js(qtbot, view, "document.getElementById('p').innerText") == "two"
    view.close()
