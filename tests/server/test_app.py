"""In-process checks of the pieces: lanes and 429, key handling, the CLI's loopback rule, fuzzing.

The fuzz test runs schemathesis against the app's own OpenAPI schema through ASGI, on
the real models (a tiny random LLM, the bundled Whisper and Piper voice): every route's
validation and error paths, plus whatever the models make of the generated inputs.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from seesay.cli import main
from seesay.config import ServerSettings, Settings
from seesay.server import create_app
from seesay.server.security import is_loopback, load_or_create_key

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
LOCAL = {**AUTH, "Host": "127.0.0.1:8765"}


def local(app: Any) -> TestClient:
    """A client addressing the app as localhost, as the server (bound to loopback) requires."""
    return TestClient(app, base_url="http://127.0.0.1:8765")


@pytest.fixture(scope="module")
def tiny_app(tiny_model_dir: Path):
    from seesay.inference.torch_engine import TorchEngine

    s = Settings().replace(
        {
            "model.name": str(tiny_model_dir),
            "model.device": "cpu",
            "server.queue_size": 2,
            "generation.max_new_tokens": 16,
        }
    )
    return create_app(s, TorchEngine(s), api_key=KEY)


def test_full_queue_answers_429_with_retry_after(tiny_app) -> None:
    lane = tiny_app.state.services.chat_lane
    assert lane.workers == 1  # the transformers engine has one KV cache
    tickets = [lane.reserve() for _ in range(lane.workers + lane.queue_size)]
    try:
        r = local(tiny_app).post(
            "/v1/chat/completions",
            headers=AUTH,
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
        )
        assert r.status_code == 429 and r.headers["Retry-After"].isdigit()
        assert r.json()["error"]["type"] == "rate_limit_error"
    finally:
        for t in tickets:
            t.release()
    r = local(tiny_app).post(
        "/v1/chat/completions",
        headers=AUTH,
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
    )
    assert r.status_code == 200 and lane.pending == 0


def test_retry_after_follows_the_queue() -> None:
    from seesay.server.errors import APIError
    from seesay.server.limits import Lane

    lane = Lane("chat", queue_size=8, workers=4)
    lane._job_s = 2.0
    tickets = [lane.reserve() for _ in range(12)]
    with pytest.raises(APIError) as full:
        lane.reserve()
    # 8 waiting ahead plus this one, drained 4 at a time at 2 s a job: ceil(9 / 4 * 2) = 5 s
    assert full.value.status == 429 and full.value.headers["Retry-After"] == "5"
    for t in tickets[:8]:
        t.release()
    assert lane.retry_after() == 1  # nobody waiting: about one job's time at most
    for t in tickets[8:]:
        t.release()


def test_retry_after_counts_the_job_still_running() -> None:
    """A long reply not yet finished must lengthen the estimate (told 2 s, the queue took 35)."""
    import asyncio
    import threading
    import time

    from seesay.server.errors import APIError
    from seesay.server.limits import Lane

    lane = Lane("chat", queue_size=3, workers=1)
    lane._job_s = 0.2  # what recent short jobs took
    release = threading.Event()
    running = threading.Thread(target=lambda: asyncio.run(lane.run(lane.reserve(), release.wait)))
    running.start()
    waiting = [lane.reserve() for _ in range(3)]
    time.sleep(1.5)
    with pytest.raises(APIError) as full:
        lane.reserve()
    release.set()
    running.join()
    for t in waiting:
        t.release()
    # 3 waiting ahead plus this one, one worker, each taking at least the 1.5 s seen so far
    assert int(full.value.headers["Retry-After"]) >= 6


def test_response_format_gives_json_even_from_a_random_model(tiny_app) -> None:
    import json

    fmt = {
        "type": "json_schema",
        "json_schema": {
            "name": "person",
            "schema": {
                "type": "object",
                "required": ["name", "age"],
                "additionalProperties": False,
                "properties": {"name": {"type": "string", "maxLength": 10}, "age": {"type": "integer"}},
            },
        },
    }
    r = local(tiny_app).post(
        "/v1/chat/completions",
        headers=AUTH,
        json={
            "model": "m",
            "messages": [{"role": "user", "content": "A person, please."}],
            "max_tokens": 120,
            "temperature": 1.0,
            "seed": 5,
            "response_format": fmt,
        },
    )
    assert r.status_code == 200, r.text
    data = json.loads(r.json()["choices"][0]["message"]["content"])
    assert set(data) == {"name", "age"} and isinstance(data["age"], int)


def test_response_format_needs_its_schema(tiny_app) -> None:
    hi = [{"role": "user", "content": "hi"}]
    r = local(tiny_app).post(
        "/v1/chat/completions",
        headers=AUTH,
        json={"model": "m", "messages": hi, "response_format": {"type": "json_schema"}},
    )
    assert r.status_code == 422 and "json_schema" in r.text
    bogus = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "bogus"}}}
    r = local(tiny_app).post(
        "/v1/chat/completions", headers=AUTH, json={"model": "m", "messages": hi, "response_format": bogus}
    )
    assert r.status_code == 400 and "not valid" in r.json()["error"]["message"]


def test_cors_is_off_by_default(tiny_app) -> None:
    r = local(tiny_app).get("/v1/models", headers={**AUTH, "Origin": "https://evil.example"})
    assert r.status_code == 403 and "access-control-allow-origin" not in r.headers


def test_listed_origins_get_cors(tiny_model_dir: Path) -> None:
    app = create_app(Settings().replace({"server.cors_origins": "https://app.example"}), api_key=KEY)
    r = local(app).get("/v1/models", headers={**AUTH, "Origin": "https://app.example"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://app.example"


def test_keyless_server_answers_loopback_hosts_only(tiny_model_dir: Path) -> None:
    app = create_app(Settings(), api_key=None)
    assert TestClient(app, base_url="http://evil.example").get("/v1/models").status_code == 403
    assert TestClient(app, base_url="http://127.0.0.1:8765").get("/openapi.json").status_code == 200


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    server = ServerSettings(api_key_file=str(tmp_path / "key"))
    first = load_or_create_key(server, env={})
    assert stat.S_IMODE(os.stat(tmp_path / "key").st_mode) == 0o600 and len(first.value) >= 40
    assert load_or_create_key(server, env={}).value == first.value
    assert load_or_create_key(server, env={"SEESAY_API_KEY": "from-env"}).value == "from-env"
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def test_no_key_is_refused_off_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--no-key"]) == 1
    assert "loopback" in capsys.readouterr().err


@pytest.mark.slow
def test_fuzz_no_server_errors(tiny_app) -> None:
    """Every operation, 25 generated requests each: never a 5xx, errors always OpenAI-shaped."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", tiny_app, headers=LOCAL)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(headers=LOCAL)
            assert response.status_code < 500, (
                case.method,
                case.path,
                response.status_code,
                response.text[:500],
            )
            if response.status_code >= 400:
                assert "error" in response.json() and "Traceback" not in response.text

        check()


def test_a_refused_client_comes_back_on_a_fresh_connection(tiny_app) -> None:
    """The 429 closes its connection: a retry after Retry-After never meets a keep-alive
    connection the server drops at that moment (what a burst of clients once lost a request to)."""
    import socket

    from seesay.server.bench import LoopbackServer

    lane = tiny_app.state.services.chat_lane
    tickets = [lane.reserve() for _ in range(lane.workers + lane.queue_size)]
    body = b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}'
    try:
        with LoopbackServer(tiny_app) as server:
            port = int(server.url.rsplit(":", 1)[1].split("/")[0])
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(
                    b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n".encode()
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                got = b""
                while chunk := sock.recv(65536):  # ends when the server closes: no wait for keep-alive
                    got += chunk
    finally:
        for t in tickets:
            t.release()
    head = got.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 429") and b"connection: close" in head and b"retry-after:" in head
