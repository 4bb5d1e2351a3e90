"""Loopback listeners that count what a page sends, and pages that try to send it.

Everything a page might leak is counted where it would arrive: HTTP requests and raw
TCP connections at a loopback web server, UDP datagrams at a loopback "STUN server",
TCP connections at a loopback "TURN server". Only 127.0.0.1 is ever used.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from seesay.vision.safety import CSP_META

PROBE = Path(__file__).with_name("page_probe.py")


@dataclass
class Listeners:
    http: str = ""  # base URL of the web server
    requests: list[str] = field(default_factory=list)
    http_connections: list[str] = field(default_factory=list)
    udp_port: int = 0
    datagrams: list[bytes] = field(default_factory=list)
    tcp_port: int = 0
    tcp_connections: list[str] = field(default_factory=list)

    def arrived(self) -> dict[str, int]:
        return {
            "http requests": len(self.requests),
            "http connections": len(self.http_connections),
            "udp packets": len(self.datagrams),
            "tcp connections": len(self.tcp_connections),
        }

    def nothing_arrived(self) -> bool:
        return not any(self.arrived().values())


@contextmanager
def listening() -> Iterator[Listeners]:
    """A web server, a UDP socket and a TCP socket on 127.0.0.1, counting everything that arrives."""
    found = Listeners()
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found.requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(b"leaked")

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def verify_request(self, request: Any, client_address: Any) -> bool:
            found.http_connections.append(str(client_address))  # even one that never sends a request
            return True

    httpd = Server(("127.0.0.1", 0), Handler)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.1)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(16)
    tcp.settimeout(0.1)

    def receive() -> None:
        while not stop.is_set():
            try:
                data, _ = udp.recvfrom(4096)
                found.datagrams.append(data)
            except TimeoutError:
                continue
            except OSError:
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, addr = tcp.accept()
                found.tcp_connections.append(str(addr))
                conn.close()
            except TimeoutError:
                continue
            except OSError:
                return

    threads = [
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True),
        threading.Thread(target=receive, daemon=True),
        threading.Thread(target=accept, daemon=True),
    ]
    for thread in threads:
        thread.start()
    found.http = f"http://127.0.0.1:{httpd.server_address[1]}"
    found.udp_port = udp.getsockname()[1]
    found.tcp_port = tcp.getsockname()[1]
    try:
        yield found
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        for thread in threads[1:]:
            thread.join(timeout=2)
        udp.close()
        tcp.close()


def rtc_script(at: Listeners) -> str:
    """JS: ``rtc(win)`` starts ICE gathering towards the loopback STUN and TURN listeners."""
    servers = [
        {"urls": f"stun:127.0.0.1:{at.udp_port}"},
        {"urls": f"turn:127.0.0.1:{at.udp_port}?transport=udp", "username": "u", "credential": "p"},
        {"urls": f"turn:127.0.0.1:{at.tcp_port}?transport=tcp", "username": "u", "credential": "p"},
    ]
    return f"""function rtc(win) {{
  try {{
    const pc = new win.RTCPeerConnection({{iceServers: {json.dumps(servers)}}});
    pc.createDataChannel('x');
    pc.createOffer().then(o => pc.setLocalDescription(o)).catch(() => {{}});
    return 'made';
  }} catch (e) {{ return 'refused'; }}
}}"""


def hostile_page(at: Listeners, *, leave: bool = True, preconnect: bool = True) -> str:
    """Every way out we know of: subresources, fetch and friends, WebRTC (also from a fresh
    frame, which has its own constructors), with ``leave`` forms, links, navigation, meta
    refresh and popups, one after another (a page that stays put lets them all run), and with
    ``preconnect`` a connection hint, which Chromium opens whatever the page's CSP says."""
    base = at.http
    hint = f'<link rel="preconnect" href="{base}">' if preconnect else ""
    return f"""<!DOCTYPE html><html><head><title>hostile</title>
<link rel="stylesheet" href="{base}/style.css"><script src="{base}/lib.js"></script>
<link rel="prefetch" href="{base}/prefetch">{hint}
</head>
<body><h1 id="h">Still here</h1>
<img id="img" src="{base}/remote.png">
<iframe id="frame" src="file:///etc/passwd"></iframe>
<form id="f" action="{base}/post" method="post"><input name="x" value="1"></form>
<a id="a" href="{base}/click">a link</a>
<script>
window.__ran = true;
document.title = 'ran';
{rtc_script(at)}
window.__rtc = [rtc(window)];
const fresh = document.createElement('iframe');
document.body.appendChild(fresh);
window.__rtc.push(rtc(frames[frames.length - 1]));
window.__fetch = 'pending';
fetch('{base}/fetch').then(r => r.text()).then(t => window.__fetch = 'got ' + t)
  .catch(e => window.__fetch = 'blocked');
try {{ const x = new XMLHttpRequest(); x.open('GET', '{base}/xhr'); x.send(); }} catch (e) {{}}
try {{ new WebSocket('{base.replace("http", "ws")}/ws'); }} catch (e) {{}}
try {{ navigator.sendBeacon('{base}/beacon', 'x'); }} catch (e) {{}}
{_leaving(base) if leave else ""}
</script></body></html>"""


# One way out each, for pages whose first successful navigation would end the test: the
# page's script marks itself as run at once and tries its way out 700 ms later.
_WAYS_OUT = {
    "location": "window.location = '{base}/location?secret=1';",
    "top-location": "top.location.href = '{base}/top-location';",
    "window-open": "window.open('{base}/window-open');",
    "meta-refresh": (
        "const m = document.createElement('meta'); m.httpEquiv = 'refresh';"
        " m.content = '0;url={base}/meta-refresh'; document.head.appendChild(m);"
    ),
    "link-click": "const a = document.createElement('a'); a.href = '{base}/link-click';"
    " document.body.appendChild(a); a.click();",
    "link-top": "const a = document.createElement('a'); a.href = '{base}/link-top'; a.target = '_top';"
    " document.body.appendChild(a); a.click();",
    "form-post": "document.getElementById('f').submit();",
}


def way_out_pages(at: Listeners) -> dict[str, str]:
    """One page per way of leaving it (each page can leave only once), a static meta refresh too."""
    base = at.http
    pages = {
        "static-refresh": (
            f'<!DOCTYPE html><html><head><meta http-equiv="refresh" content="1;url={base}/static-refresh">'
            "</head><body><script>window.__ran = true;</script></body></html>"
        )
    }
    for name, attack in _WAYS_OUT.items():
        pages[name] = (
            f"<!DOCTYPE html><html><head><title>{name}</title></head><body>"
            f'<form id="f" action="{base}/form-post" method="post"><input name="x" value="1"></form>'
            "<script>window.__ran = true;"
            f" setTimeout(() => {{ try {{ {attack.format(base=base)} }} catch (e) {{}} }}, 700);</script>"
            "</body></html>"
        )
    return pages


def _leaving(base: str) -> str:
    return "\n".join(
        f"setTimeout(() => {{ try {{ {attack.format(base=base)} }} catch (e) {{}} }}, {150 + 100 * i});"
        for i, attack in enumerate(_WAYS_OUT.values())
    )


_LOADS = """<img src="{base}/{name}.png"><link rel="stylesheet" href="{base}/{name}.css">
<script src="{base}/{name}.js"></script>
<script>document.title = 'ran'; fetch('{base}/{name}-fetch').catch(() => {{}});</script>"""


def tricky_pages(at: Listeners) -> dict[str, str]:
    """Pages whose markup hides where the real <head> is (or fakes our seal), each loading
    subresources and running one inline script that sets the title to 'ran'."""
    base = at.http

    def loads(name: str) -> str:
        return _LOADS.format(base=base, name=name)

    return {
        "header-first": f"<header><h1>Shop</h1></header>\n{loads('header-first')}",
        "header-before-head": (
            f"<!DOCTYPE html><header><nav>menu</nav></header><head><title>t</title></head>"
            f"<body>{loads('header-before-head')}</body>"
        ),
        "csp-text-in-comment": (
            f"<!DOCTYPE html><html><head><!-- {CSP_META} --><title>t</title></head>"
            f"<body>{loads('csp-text-in-comment')}</body></html>"
        ),
        "head-in-comment": (
            f"<!DOCTYPE html><html><!-- <head> --><body>{loads('head-in-comment')}</body></html>"
        ),
        "abrupt-comment": f"<!DOCTYPE html><!-->{loads('abrupt-comment')}--><html><head></head></html>",
        "weaker-own-csp": (
            "<!DOCTYPE html><html><head>"
            '<meta http-equiv="Content-Security-Policy" content="default-src * \'unsafe-inline\'">'
            f"</head><body>{loads('weaker-own-csp')}</body></html>"
        ),
        "quoted-angle-in-html-tag": (
            f'<!DOCTYPE html><html data-x="a>b"><head></head><body>{loads("quoted-angle-in-html-tag")}</body>'
        ),
        "uppercase-bom": (
            f"\ufeff<!DOCTYPE html><HTML><HEAD><TITLE>t</TITLE></HEAD><BODY>{loads('uppercase-bom')}"
        ),
    }


def probe_in_browser(
    files: list[Path], script: str, *, early_ms: int = 100, late_ms: int = 1500, timeout: float = 240
) -> list[dict]:
    """Open each file as a plain browser would (QtWebEngine in a fresh process, none of the
    preview's switches, interceptor or scripts, file pages allowed to reach the network, popups
    opened) and evaluate ``script`` in every frame, early and late (see page_probe.py)."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "QTWEBENGINE_DISABLE_SANDBOX": "1",
        "QTWEBENGINE_CHROMIUM_FLAGS": "--disable-gpu --no-sandbox",
    }
    result = subprocess.run(
        [sys.executable, str(PROBE), str(early_ms), str(late_ms), script, *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(records) == len(files), result.stderr[-2000:]
    return records
