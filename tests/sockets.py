"""Probing every TCP socket a process listens on, as another program on the machine could."""

from __future__ import annotations

import httpx
import psutil

PATHS = [
    "/",
    "/health",
    "/v1/health",
    "/v1/models",
    "/models",
    "/props",
    "/slots",
    "/metrics",
    "/docs",
    "/openapi.json",
    "/v1/chat/completions",
    "/completion",
    "/tokenize",
    "/apply-template",
    "/v1/audio/speech",
]
REFUSED = (401, 403, 404)


def listening(pid: int) -> list[tuple[str, int]]:
    return [
        (c.laddr.ip, c.laddr.port)
        for c in psutil.Process(pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]


def assert_nothing_answers_without_the_key(pid: int) -> list[tuple[str, int]]:
    """Every path on every listening socket, with no key and a wrong one, from a foreign web page
    too: refused, and no CORS grant. Returns the sockets probed."""
    sockets = listening(pid)
    body = {"messages": [{"role": "user", "content": "hi"}], "content": "hi", "input": "hi", "max_tokens": 2}
    for ip, port in sockets:
        host = f"[{ip}]" if ":" in ip else ip
        for path in PATHS:
            for auth in ({}, {"Authorization": "Bearer wrong-key"}):
                headers = {**auth, "Origin": "http://evil.example"}
                for method in ("GET", "POST"):
                    r = httpx.request(
                        method,
                        f"http://{host}:{port}{path}",
                        headers=headers,
                        timeout=10,
                        json=body if method == "POST" else None,
                    )
                    assert r.status_code in REFUSED, (ip, port, method, path, r.status_code, r.text[:200])
                    assert r.headers.get("access-control-allow-origin", "") in ("", "null"), (port, path)
    return sockets
