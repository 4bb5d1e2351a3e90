"""The real server against what a hostile web page, a careless client or a flood would send.

Each test drives ``seesay serve`` (a subprocess on loopback) or the app on a real uvicorn
socket: text that is not text, headers that never finish, bodies that stall, more
connections than the cap, other web sites, other host names, and a 0.55 MB history.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from seesay.cli import main
from seesay.config import Settings
from tests.server.conftest import Server, start_server, stop_server

CAP = 12
READ_TIMEOUT_S = 1.5
LONE_SURROGATE = '"hi \\ud800 there"'  # JSON text; decoded, it is not encodable as UTF-8


@pytest.fixture(scope="module")
def keyless(tmp_path_factory: pytest.TempPathFactory, shared_models: Path) -> Iterator[Server]:
    """A second server: no key (loopback), a small connection cap and short read deadlines."""
    home = tmp_path_factory.mktemp("keyless-home")
    (home / "cache").mkdir()
    (home / "cache" / "models").symlink_to(shared_models, target_is_directory=True)
    env = {"SEESAY_SERVER_MAX_CONNECTIONS": str(CAP), "SEESAY_SERVER_READ_TIMEOUT_S": str(READ_TIMEOUT_S)}
    running = start_server(home, "--no-key", env=env)
    yield running
    stop_server(running)


def address(server: Server) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def read_until_closed(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes; and when it closed (monotonic)."""
    sock.settimeout(limit_s)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        pytest.fail(f"the server kept the connection open for over {limit_s} s: {data[:200]!r}")
    except ConnectionResetError:
        pass
    return data, time.monotonic()


def test_half_open_connections_are_capped_and_then_closed(keyless: Server) -> None:
    host, port = address(keyless)
    started = time.monotonic()
    socks = []
    for _ in range(3 * CAP):
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        socks.append(s)
    answers = [read_until_closed(s, READ_TIMEOUT_S + 5) for s in socks]
    for s in socks:
        s.close()
    refused = [t for data, t in answers if data.startswith(b"HTTP/1.1 503")]
    timed_out = [t for data, t in answers if data.startswith(b"HTTP/1.1 408")]
    assert len(refused) >= 2 * CAP - 1 and len(refused) + len(timed_out) == len(socks), answers
    assert max(t for _, t in answers) - started < READ_TIMEOUT_S + 2
    r = httpx.get(f"{keyless.url}/models", timeout=10)  # the server is free again
    assert r.status_code == 200


def test_a_head_sent_a_byte_at_a_time_still_has_one_deadline(keyless: Server) -> None:
    sock = socket.create_connection(address(keyless), timeout=5)
    started = time.monotonic()
    head = b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100
    with sock:
        try:
            for byte in head:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, closed = read_until_closed(sock, 5)
    assert data.startswith(b"HTTP/1.1 408") and closed - started < READ_TIMEOUT_S + 1


def test_a_stalled_body_is_dropped(keyless: Server) -> None:
    sock = socket.create_connection(address(keyless), timeout=5)
    with sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"messages": '
        )
        stalled = time.monotonic()
        _, closed = read_until_closed(sock, READ_TIMEOUT_S + 5)
    assert READ_TIMEOUT_S - 0.2 < closed - stalled < READ_TIMEOUT_S + 1


def post_raw(server: Server, path: str, body: str, headers: dict[str, str]) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection(*address(server), timeout=60)
    conn.request(
        "POST", f"/v1{path}", body=body.encode(), headers={"Content-Type": "application/json", **headers}
    )
    return conn


@pytest.mark.parametrize("stream", [False, True])
def test_a_lone_surrogate_is_a_clear_422_and_keeps_the_connection(server: Server, stream: bool) -> None:
    auth = {"Authorization": f"Bearer {server.key}"}
    body = f'{{"messages": [{{"role": "user", "content": {LONE_SURROGATE}}}], "max_tokens": 2, '
    body += f'"stream": {json.dumps(stream)}}}'
    conn = post_raw(server, "/chat/completions", body, auth)
    r = conn.getresponse()
    error = json.loads(r.read())["error"]
    assert r.status == 422 and "messages[0].content" in error["message"] and "surrogate" in error["message"]
    assert r.getheader("connection") != "close"
    conn.request("GET", "/v1/models", headers=auth)  # the same connection still serves
    again = conn.getresponse()
    assert again.status == 200 and json.loads(again.read())["data"]
    conn.close()


def test_a_lone_surrogate_in_speech_input_is_refused(server: Server) -> None:
    auth = {"Authorization": f"Bearer {server.key}"}
    conn = post_raw(server, "/audio/speech", f'{{"model": "tts-1", "input": {LONE_SURROGATE}}}', auth)
    r = conn.getresponse()
    assert r.status == 422 and "input" in json.loads(r.read())["error"]["message"]
    conn.close()


def test_a_keyed_server_checks_the_host_too(server: Server) -> None:
    """DNS rebinding: a page on attacker.example resolving to 127.0.0.1 must not be answered."""
    auth = {"Authorization": f"Bearer {server.key}"}
    r = httpx.get(f"{server.url}/models", headers={**auth, "Host": "attacker.example"}, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "host_not_allowed"
    assert httpx.get(f"{server.url}/models", headers=auth, timeout=10).status_code == 200


def test_a_keyless_server_refuses_other_web_sites(keyless: Server) -> None:
    url = f"{keyless.url}/audio/transcriptions"
    files = {"file": ("a.wav", b"RIFF0000WAVE", "audio/wav")}
    # A form post needs no CORS preflight: the browser sends it and only hides the answer.
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},  # sandboxed frames and file:// pages
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"},  # another local app
    ):
        r = httpx.post(url, files=files, headers=headers, timeout=10)
        assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin", (headers, r.text)
        assert "access-control-allow-origin" not in r.headers
    host, port = address(keyless)
    own = {"Origin": f"http://{host}:{port}", "Sec-Fetch-Site": "same-origin"}
    assert httpx.get(f"{keyless.url}/models", headers=own, timeout=10).status_code == 200
    assert httpx.get(f"{keyless.url}/models", timeout=10).status_code == 200  # not a browser


def test_wildcard_cors_is_refused_without_a_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from seesay.server import create_app

    monkeypatch.setenv("SEESAY_SERVER_CORS_ORIGINS", "http://localhost:3000, *")
    assert main(["serve", "--no-key", "--port", "0"]) == 1
    err = capsys.readouterr().err.strip()
    assert "server.cors_origins" in err and len(err.splitlines()) == 1
    create_app(Settings().replace({"server.cors_origins": "*"}), api_key="k")
    assert "every web site may call this API" in caplog.text


def test_interactive_docs_are_not_served(server: Server) -> None:
    """The pages load scripts from a CDN; the schema stays available."""
    auth = {"Authorization": f"Bearer {server.key}"}
    assert httpx.get(f"{server.url[:-3]}/docs", headers=auth, timeout=10).status_code == 404
    assert httpx.get(f"{server.url[:-3]}/openapi.json", headers=auth, timeout=10).status_code == 200


@pytest.mark.slow
def test_a_huge_history_is_trimmed_fast_and_a_disconnect_frees_the_worker() -> None:
    """0.55 MB in 1,024 messages once held the only worker for 123 s, client gone or not."""
    from seesay.inference import context, create_engine
    from seesay.server import create_app
    from seesay.server.bench import LoopbackServer

    settings = Settings()
    engine = create_engine(settings)  # the bundled model on llama.cpp
    engine.load()
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}: " + "lorem ipsum dolor " * 30}
        for i in range(1024)
    ]
    assert 500_000 < sum(len(m["content"]) for m in messages) < 600_000
    started = time.perf_counter()
    fitted = context.fit_window(messages, engine.count_tokens, engine.window, 512)
    trim_s = time.perf_counter() - started
    assert trim_s < 1.0 and fitted.trim.dropped_messages > 900 and fitted.prompt_tokens <= engine.window

    app = create_app(settings, engine)
    lane = app.state.services.chat_lane
    body = {"messages": messages, "max_tokens": 64, "stream": True}
    freed_s = []
    try:
        with LoopbackServer(app) as running:
            # gone while the history is being fitted, then while the model reads the prompt
            for stay_s in (0.05, 1.5):
                with httpx.stream("POST", f"{running.url}/chat/completions", json=body, timeout=30) as r:
                    assert r.status_code == 200
                    time.sleep(stay_s)
                    assert lane.pending == 1
                gone = time.perf_counter()
                while lane.pending and time.perf_counter() - gone < 5:
                    time.sleep(0.002)
                freed_s.append(time.perf_counter() - gone)
    finally:
        engine.close()
    assert lane.pending == 0 and max(freed_s) < 0.2, freed_s
