"""In-process checks of the pieces: lanes and 429, key handling, the CLI's loopback rule, fuzzing.

The fuzz test runs schemathesis against the app's own OpenAPI schema through ASGI with
stand-in models (the schema is built at import, before any fixture), so it exercises
validation and every route's error paths in seconds; the real models are driven by
the subprocess tests.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from seesay.audio.stt import Segment, Transcript
from seesay.cli import main
from seesay.config import ServerSettings, Settings
from seesay.inference.engine import GenerationParams, Message, Stream
from seesay.server import create_app
from seesay.server.security import is_loopback, load_or_create_key

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


class FakeTranscriber:
    name = "fake"

    def transcribe(self, audio: np.ndarray, *, offset: float = 0.0) -> Transcript:
        return Transcript("hello", [Segment(offset, offset + 1, "hello")], "en", len(audio) / 16000)


class FakeSynthesizer:
    name = "fake"
    sample_rate = 16000

    def stream(self, text: str) -> Iterator[np.ndarray]:
        yield np.zeros(160, dtype=np.float32)


@pytest.fixture(scope="module")
def tiny_app(tiny_model_dir: Path):
    from seesay.inference.local import LocalEngine

    s = Settings().replace({"model.name": str(tiny_model_dir), "model.device": "cpu", "server.queue_size": 2})
    return create_app(s, LocalEngine(s), transcriber=FakeTranscriber(), synthesizer=FakeSynthesizer(),
                      api_key=KEY)


def test_full_queue_answers_429_with_retry_after(tiny_app) -> None:
    lane = tiny_app.state.services.chat_lane
    tickets = [lane.reserve() for _ in range(lane.queue_size)]
    try:
        r = TestClient(tiny_app).post("/v1/chat/completions", headers=AUTH, json={
            "model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})
        assert r.status_code == 429 and r.headers["Retry-After"].isdigit()
        assert r.json()["error"]["type"] == "rate_limit_error"
    finally:
        for t in tickets:
            t.release()
    r = TestClient(tiny_app).post("/v1/chat/completions", headers=AUTH, json={
        "model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})
    assert r.status_code == 200 and lane.pending == 0


def test_cors_is_off_by_default(tiny_app) -> None:
    r = TestClient(tiny_app).get("/v1/models", headers={**AUTH, "Origin": "https://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


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


class FakeEngine:
    """Echoes words up to max_new_tokens; enough for the routes, free of model time."""

    model_name = "fake-llm"
    device = "cpu"

    def load(self, progress: object = None) -> None:
        pass

    def stream(self, messages: Sequence[Message], params: GenerationParams | None = None) -> Stream:
        params = params or GenerationParams()

        def deltas(stream: Stream) -> Iterator[str]:
            stream.stats.prompt_tokens = sum(len(m["content"].split()) for m in messages)
            for i in range(min(params.max_new_tokens, 8)):
                if stream.cancelled:
                    return
                stream.stats.completion_tokens += 1
                yield f"w{i} "
            stream.stats.finish_reason = "length"

        return Stream(deltas)


FUZZ_APP = create_app(Settings(), FakeEngine(), transcriber=FakeTranscriber(), synthesizer=FakeSynthesizer(),
                      api_key=KEY)
schema = schemathesis.openapi.from_asgi("/openapi.json", FUZZ_APP, headers=AUTH)


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_fuzz_no_server_errors(case) -> None:
    response = case.call(headers=AUTH)
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:500])
    if response.status_code >= 400:
        assert "error" in response.json() and "Traceback" not in response.text
