"""The preview sandbox sends nothing anywhere: requests are counted at a real loopback server."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from seesay.app.preview import SandboxedPreview

pytestmark = pytest.mark.slow


class _Counter(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(b"leaked")

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_Counter,), {"hits": hits})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


def hostile_page(base: str) -> str:
    return f"""<!DOCTYPE html><html><head><title>hostile</title>
<link rel="stylesheet" href="{base}/style.css"><script src="{base}/lib.js"></script></head>
<body><h1 id="h">Still here</h1>
<img id="img" src="{base}/remote.png">
<iframe id="frame" src="file:///etc/passwd"></iframe>
<form id="f" action="{base}/post" method="post"><input name="x" value="1"></form>
<script>
window.__fetch = 'pending';
fetch('{base}/fetch').then(r => r.text()).then(t => window.__fetch = 'got ' + t)
  .catch(e => window.__fetch = 'blocked');
try {{ const x = new XMLHttpRequest(); x.open('GET', '{base}/xhr'); x.send(); }} catch (e) {{}}
try {{ new WebSocket('{base.replace("http", "ws")}/ws'); }} catch (e) {{}}
try {{ navigator.sendBeacon('{base}/beacon', 'x'); }} catch (e) {{}}
setTimeout(() => {{ try {{ document.getElementById('f').submit(); }} catch (e) {{}} }}, 200);
setTimeout(() => {{ window.location = '{base}/navigate'; }}, 400);
setTimeout(() => {{ window.open('{base}/popup'); }}, 500);
</script></body></html>"""


def run_js(qtbot: Any, view: SandboxedPreview, script: str) -> Any:
    box: list[Any] = []
    view.page().runJavaScript(script, 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10_000)
    return box[0]


@pytest.mark.parametrize("inject_csp", [False, True], ids=["profile-only", "profile+csp"])
def test_generated_page_reaches_nothing(qtbot: Any, server: tuple[str, list[str]], inject_csp: bool) -> None:
    base, hits = server
    view = SandboxedPreview(inject_csp=inject_csp)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    with qtbot.waitSignal(view.loadFinished, timeout=20_000):
        view.set_html(hostile_page(base))
    time.sleep(0.1)
    qtbot.wait(1500)  # give the timers (form post, navigation, popup) time to fire
    assert hits == [], f"the sandbox let requests through: {hits}"
    assert run_js(qtbot, view, "document.getElementById('h').innerText") == "Still here"  # not navigated
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
    if not inject_csp:  # without the CSP the interceptor is what stopped them
        assert any("/fetch" in u for u in view.interceptor.blocked)
    # The counter itself works: a request from outside the sandbox is seen.
    urllib.request.urlopen(f"{base}/control", timeout=5).read()
    assert hits == ["/control"]
    view.close()
