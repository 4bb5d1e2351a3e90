"""A :class:`ChatEngine` for any OpenAI-compatible server (vLLM, Ollama, llama.cpp, LM Studio).

The HTTP response is read on a helper thread that feeds a queue, and the stream polls
that queue every 50 ms. A blocking socket read cannot be interrupted from Python, so
this is what lets ``Stream.cancel()`` end a reply within a fraction of a second even
when the server has gone silent; cancelling shuts the socket down so the server sees
the disconnect and stops generating.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from seesay.config import RemoteSettings
from seesay.errors import RemoteEngineError
from seesay.inference.chunks import ChunkReader
from seesay.inference.engine import GenerationParams, Message, Progress, Stream

log = logging.getLogger(__name__)

_POLL_S = 0.05
_SSE_FIELDS = ("event:", "id:", "retry:")


def _snippet(body: str, limit: int = 200) -> str:
    """The server's own words about an error, short enough for one line of UI."""
    text = body
    with contextlib.suppress(ValueError):
        data = json.loads(body)
        if isinstance(data, dict):
            err = data.get("error", data)
            if isinstance(err, dict):
                text = str(err.get("message") or err.get("detail") or err)
            elif isinstance(err, str):
                text = err
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wire(m: Message) -> dict[str, Any]:
    """A message as OpenAI's API takes it: tool calls and tool answers keep their ids."""
    out: dict[str, Any] = {"role": m["role"], "content": m["content"]}
    for key in ("tool_calls", "tool_call_id", "name"):
        if key in m:
            out[key] = m[key]  # type: ignore[literal-required,unused-ignore]
    return out


class _Reader(threading.Thread):
    """Owns one HTTP response; only this thread touches it, the consumer only reads the queue."""

    def __init__(self, client: httpx.Client, url: str, payload: dict[str, Any]) -> None:
        super().__init__(name="seesay-remote-reader", daemon=True)
        self.items: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._client, self._url, self._payload = client, url, payload
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._aborted = False

    def _remember(self, network_stream: Any) -> None:
        sock = getattr(network_stream, "get_extra_info", lambda _: None)("socket")
        with self._lock:
            self._sock = sock if isinstance(sock, socket.socket) else self._sock
        if self._aborted:
            self.abort()

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        # Catch the socket as soon as it connects, so cancel works while waiting for headers too.
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self._remember(info.get("return_value"))

    def abort(self) -> None:
        """Shut the socket down: wakes the blocked read here and tells the server to stop."""
        self._aborted = True
        with self._lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)

    def run(self) -> None:
        try:
            with self._client.stream(
                "POST",
                self._url,
                json=self._payload,
                headers={"Accept": "text/event-stream"},
                extensions={"trace": self._trace},
            ) as resp:
                try:
                    self._remember(resp.extensions.get("network_stream"))
                    if resp.status_code >= 400:
                        resp.read()
                        self.items.put(("status", (resp.status_code, resp.text)))
                        return
                    for line in resp.iter_lines():
                        if self._aborted:
                            return
                        self.items.put(("line", line))
                    self.items.put(("eof", None))
                finally:
                    # Forget the socket before the connection goes back to the pool, so a late
                    # abort() can never shut down a connection another stream is now using.
                    with self._lock:
                        self._sock = None
        except Exception as exc:  # every failure must reach the consumer, not die with the thread
            self.items.put(("exc", exc))


class RemoteEngine:
    """Streams replies from an OpenAI-compatible ``/chat/completions`` endpoint."""

    native_tools = True  # the server applies the model's own tool-call format

    def __init__(self, settings: RemoteSettings, parallel: int = 4) -> None:
        """``parallel``: replies to have in flight at once (the server batches or queues them)."""
        self._settings = settings
        self.parallel = parallel
        self._base = settings.base_url.strip().rstrip("/")
        self._model = settings.model
        self._where = f"The model server at {self._base}"
        self._loaded = False
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(settings.timeout))

    @property
    def model_name(self) -> str:
        return self._model

    @property
    def device(self) -> str:
        try:
            url = httpx.URL(self._base)
            port = url.port or (443 if url.scheme == "https" else 80)
            return f"remote ({url.host}:{port})"
        except httpx.InvalidURL:
            return f"remote ({self._base})"

    def close(self) -> None:
        self._client.close()

    # -- errors -------------------------------------------------------------------------------
    def _http_error(self, status: int, body: str, path: str) -> RemoteEngineError:
        where, said = self._where, _snippet(body)
        if status in (401, 403):
            if not self._settings.api_key:
                return RemoteEngineError(f"{where} wants an API key (HTTP {status}); set remote.api_key.")
            return RemoteEngineError(f"{where} rejected the API key (HTTP {status}); check remote.api_key.")
        if status == 404:
            hint = "" if self._base.endswith("/v1") else " The base URL probably needs to end in /v1."
            return RemoteEngineError(f"{where} answered HTTP 404 for {path} ({said}).{hint}")
        return RemoteEngineError(f"{where} failed (HTTP {status}): {said}")

    def _transport_error(self, exc: Exception) -> RemoteEngineError:
        if isinstance(exc, httpx.TimeoutException):
            return RemoteEngineError(f"{self._where} did not answer within {self._settings.timeout:g} s.")
        if isinstance(exc, httpx.ConnectError):
            why = "connection refused" if "refused" in str(exc).lower() else str(exc)
            return RemoteEngineError(f"Cannot reach the model server at {self._base}: {why}. Is it running?")
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return RemoteEngineError(f"remote.base_url {self._base!r} is not a valid http(s) URL: {exc}")
        if isinstance(exc, httpx.RemoteProtocolError):
            return RemoteEngineError(f"{self._where} hung up before finishing the reply ({exc}).")
        return RemoteEngineError(f"{self._where} failed: {exc}")

    # -- ChatEngine -----------------------------------------------------------------------------
    def load(self, progress: Progress | None = None) -> None:
        """Check the server answers and pick its first model when none is configured."""
        if self._loaded:
            return
        if not self._base:
            raise RemoteEngineError("No model server is set: remote.base_url is empty.")
        if progress:
            progress(0.0, f"Contacting {self._base}")
        try:
            resp = self._client.get(f"{self._base}/models")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._transport_error(exc) from exc
        if resp.status_code >= 400:
            raise self._http_error(resp.status_code, resp.text, "/models")
        try:
            ids = [str(m["id"]) for m in resp.json()["data"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise RemoteEngineError(
                f"{self._where} answered /models with something that is not an "
                f"OpenAI model list: {_snippet(resp.text, 80)}"
            ) from exc
        if not self._model:
            if not ids:
                raise RemoteEngineError(f"{self._where} lists no models.")
            self._model = ids[0]
        elif self._model not in ids:
            log.warning("Model %r is not among the server's %s; asking for it anyway", self._model, ids)
        self._loaded = True
        log.info("Remote engine ready: %s at %s", self._model, self._base)
        if progress:
            progress(1.0, f"Connected to {self._model}")

    def stream(self, messages: Sequence[Message], params: GenerationParams | None = None) -> Stream:
        p = params or GenerationParams()
        payload: dict[str, Any] = {
            "messages": [_wire(m) for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": p.temperature,
            "top_p": p.top_p,
            "max_tokens": p.max_new_tokens,
        }
        if p.seed != -1:
            payload["seed"] = p.seed
        if p.stop:
            payload["stop"] = list(p.stop)
        if p.json_schema is not None:
            payload["response_format"] = (
                {"type": "json_schema", "json_schema": {"name": "response", "schema": dict(p.json_schema)}}
                if p.json_schema
                else {"type": "json_object"}
            )
        if p.grammar:
            payload["grammar"] = p.grammar  # llama.cpp's server and vLLM (guided decoding) read this
        if p.tools:
            # The server runs the model's own tool-call format (vLLM, Ollama and llama.cpp do).
            payload["tools"] = [dict(t) for t in p.tools]
            payload["tool_choice"] = p.tool_choice if isinstance(p.tool_choice, str) else dict(p.tool_choice)
            payload["parallel_tool_calls"] = p.parallel_tool_calls
        return Stream(lambda s: self._generate(s, payload))

    def _generate(self, stream: Stream, payload: dict[str, Any]) -> Iterator[str]:
        if stream.cancelled:
            stream.stats.finish_reason = "cancelled"
            return
        try:
            if not self._model:
                self.load()
            url = f"{self._base}/chat/completions"
            reader = _Reader(self._client, url, {"model": self._model, **payload})
            reader.start()
            try:
                yield from self._consume(stream, reader)
            finally:
                # After a clean end the reader finishes and returns the connection to the pool;
                # otherwise (cancel, error, abandoned stream) drop the connection so the server stops.
                if stream.stats.finish_reason not in ("stop", "length", "tool_calls"):
                    reader.abort()
        except RemoteEngineError:
            stream.stats.finish_reason = "error"
            raise

    def _consume(self, stream: Stream, reader: _Reader) -> Iterator[str]:
        stats, timeout = stream.stats, self._settings.timeout
        chunks = ChunkReader(stream)
        last_progress = time.monotonic()
        while True:
            if stream.cancelled:
                stats.finish_reason = "cancelled"
                return
            try:
                kind, value = reader.items.get(timeout=_POLL_S)
            except queue.Empty:
                if time.monotonic() - last_progress > timeout:
                    raise self._transport_error(httpx.ReadTimeout("no progress")) from None
                continue
            last_progress = time.monotonic()
            if kind == "exc":
                if chunks.finish and isinstance(value, httpx.RemoteProtocolError):
                    break  # reply was complete; the server just hung up before [DONE]
                raise self._transport_error(value) from value
            if kind == "status":
                status, body = value
                raise self._http_error(status, body, "/chat/completions")
            if kind == "eof":
                if chunks.finish:
                    break
                raise RemoteEngineError(
                    f"{self._where} closed the stream before finishing the reply (no [DONE])."
                )
            line: str = value
            if not line or line.startswith(":") or line.startswith(_SSE_FIELDS):
                continue
            if not line.startswith("data:"):
                raise RemoteEngineError(
                    f"The model server sent a malformed stream: expected 'data:' lines, "
                    f"got {_snippet(line, 80)!r}"
                )
            data = line[5:].strip()
            if data == "[DONE]":
                break
            yield from chunks.deltas(self._parse(data))
        chunks.done()

    def _parse(self, data: str) -> dict[str, Any]:
        """One SSE payload as a chunk; an ``error`` object is the server reporting failure mid-stream."""
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise RemoteEngineError(
                f"The model server sent a malformed stream: {exc} in {_snippet(data, 80)!r}"
            ) from exc
        if not isinstance(chunk, dict):
            raise RemoteEngineError(f"The model server sent a malformed stream: {_snippet(data, 80)!r}")
        if chunk.get("error"):
            raise RemoteEngineError(f"{self._where} reported an error: {_snippet(json.dumps(chunk))}")
        return chunk
