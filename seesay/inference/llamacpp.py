"""LlamaCppEngine: GGUF models run by llama.cpp, quantized as they are, several replies at once.

The chat window, the voice loop, a sketch revision and API clients all stream from one
model at the same time: llama.cpp decodes their sequences together in one batch per step
(continuous batching), so a second reply costs far less than a second turn in a queue.
What a reply needs of the shared KV cache (its prompt plus its longest answer) is
reserved before it starts, in arrival order, so replies running together can never run
the cache out; a conversation's earlier turns stay cached in its slot, so the next turn
computes only what is new.

Each reply runs llama.cpp's blocking call on a helper thread that feeds a queue; the
stream polls that queue, so ``Stream.cancel()`` ends the reply at once even while a long
prompt is being read, and the slot is freed at llama.cpp's next batch.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from seesay.config import Settings
from seesay.errors import ConfigError, EngineError, InputError
from seesay.inference import context, tool_calls
from seesay.inference.chunks import ChunkReader
from seesay.inference.constrained import JSON_LAYOUT, grammar_of
from seesay.inference.engine import GenerationParams, Message, Progress, Stream
from seesay.inference.llama_server import Chunk, LlamaServer, ServerOptions, gpu_backends
from seesay.inference.resolve import ResolvedModel

log = logging.getLogger(__name__)

_POLL_S = 0.05
# The shared KV cache holds one conversation of the full window plus this much for each other slot.
SIDE_SLOT_TOKENS = 512


class TokenPool:
    """Admits replies first come, first served while their KV cache needs fit beside the running ones."""

    def __init__(self, tokens: int, slots: int) -> None:
        self.tokens, self.slots = tokens, slots
        self.used = 0
        self.running = 0
        self._waiting: deque[object] = deque()
        self._cond = threading.Condition()

    def acquire(self, need: int, cancelled: Callable[[], bool]) -> bool:
        """Wait for room for ``need`` tokens; False if cancelled first."""
        ticket = object()
        with self._cond:
            self._waiting.append(ticket)
            try:
                while (
                    self._waiting[0] is not ticket
                    or self.running >= self.slots
                    or self.used + need > self.tokens
                ):
                    if cancelled():
                        return False
                    self._cond.wait(_POLL_S)
                self.used += need
                self.running += 1
                return True
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()

    def release(self, need: int) -> None:
        with self._cond:
            self.used -= need
            self.running -= 1
            self._cond.notify_all()


class _Run(threading.Thread):
    """One llama.cpp request on its own thread; chunks go to a queue, ``stop`` ends it."""

    def __init__(self, server: LlamaServer, request: dict[str, Any], on_end: Callable[[], None]) -> None:
        super().__init__(name="seesay-llama-request", daemon=True)
        self.items: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.stop = threading.Event()
        self._server, self._request, self._on_end = server, request, on_end

    def run(self) -> None:
        try:
            self._server.chat(self._request, self._chunk)
        except Exception as e:  # every failure must reach the stream, not die with the thread
            self.items.put(("error", e))
        finally:
            self._on_end()
            self.items.put(("end", None))

    def _chunk(self, chunk: Chunk) -> bool:
        self.items.put(("chunk", chunk))
        return self.stop.is_set()


class LlamaCppEngine:
    """A :class:`~seesay.inference.engine.ChatEngine` over an in-process llama.cpp server."""

    backend = "llama.cpp"

    def __init__(self, settings: Settings, resolved: ResolvedModel, *, draft_ngrams: bool = True) -> None:
        """``draft_ngrams``: n-gram speculation (off only to measure what it gains)."""
        self.settings = settings
        self.draft_ngrams = draft_ngrams
        self.resolved = resolved
        self.server: LlamaServer | None = None
        self.pool: TokenPool | None = None
        self.window = settings.model.context_tokens  # prompt + reply of one request
        self.load_seconds = 0.0
        self.meta: dict[str, Any] = {}
        self._gpu: list[str] = []
        self._load_lock = threading.Lock()
        self._native_tools: bool | None = None

    @property
    def model_name(self) -> str:
        return self.resolved.name

    @property
    def device(self) -> str:
        where = self._gpu[0] if self._gpu else f"cpu ({os.cpu_count()} cores)"
        quant = self.meta.get("ftype")
        return f"{where}, llama.cpp" + (f" {quant}" if quant else "")

    @property
    def parallel(self) -> int:
        return self.settings.model.parallel

    @property
    def loaded(self) -> bool:
        return self.server is not None

    def load(self, progress: Progress | None = None) -> None:
        with self._load_lock:
            if self.server is None:
                started = time.perf_counter()
                self._load(progress or (lambda _f, _m: None))
                self.load_seconds = time.perf_counter() - started

    def _load(self, report: Progress) -> None:
        model = self.settings.model
        self._gpu = gpu_backends() if model.device != "cpu" else []
        if model.device.startswith("cuda") and not self._gpu:
            raise ConfigError(
                f"model.device: {model.device!r} was asked for, but this llama.cpp build has "
                "no GPU backend; install the CUDA build of xllamacpp (see the README) or use "
                "'auto'"
            )
        report(0.1, f"Loading {self.model_name}…")
        slots = model.parallel
        pool = model.context_tokens + (slots - 1) * SIDE_SLOT_TOKENS
        options = ServerOptions(
            slots=slots,
            pool_tokens=pool,
            threads=model.threads,
            gpu=bool(self._gpu),
            draft_ngrams=self.draft_ngrams,
        )
        server = LlamaServer(self.resolved.location, self.model_name, options)
        self.meta = server.model_meta()
        self.window = min(model.context_tokens, int(self.meta.get("n_ctx_train") or model.context_tokens))
        self.pool = TokenPool(options.pool_tokens, slots)
        self.server = server
        report(1.0, "Ready")
        log.info(
            "loaded %s with llama.cpp on %s (%d slots, window %d)",
            self.model_name,
            self.device,
            slots,
            self.window,
        )

    def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.close()

    def count_tokens(self, messages: Sequence[Message]) -> int:
        self.load()
        assert self.server is not None
        return self.server.count(_alternating(list(messages)))

    def stream(self, messages: Sequence[Message], params: GenerationParams | None = None) -> Stream:
        params = params or GenerationParams.from_settings(self.settings.generation)
        if tool_calls.uses_tools(messages, params) and not self.native_tools:
            return tool_calls.prompted(self._plain, messages, params)
        return self._plain(list(messages), params)

    def _plain(self, messages: list[Message], params: GenerationParams) -> Stream:
        return Stream(lambda s: self._generate(s, messages, params))

    @property
    def native_tools(self) -> bool:
        """Whether the model's chat template writes tool calls (llama.cpp then parses them)."""
        if self._native_tools is None:
            self.load()
            assert self.server is not None
            self._native_tools = self.server.renders_tools()
        return self._native_tools

    def _generate(self, stream: Stream, messages: list[Message], params: GenerationParams) -> Iterator[str]:
        self.load()
        server, pool = self.server, self.pool
        assert server is not None and pool is not None
        try:
            fit = context.fit_window(
                _alternating(messages),
                server.count,
                self.window,
                params.max_new_tokens,
                lambda: stream.cancelled,
            )
        except context.Cancelled:
            stream.stats.finish_reason = "cancelled"
            return
        stream.stats.trim, stream.stats.prompt_tokens = fit.trim, fit.prompt_tokens
        need = fit.prompt_tokens + fit.max_new_tokens
        if not pool.acquire(need, lambda: stream.cancelled):
            stream.stats.finish_reason = "cancelled"
            return
        run = _Run(server, _request(fit.messages, params, fit.max_new_tokens), lambda: pool.release(need))
        run.start()
        done = False
        try:
            yield from self._consume(stream, run)
            done = True
        finally:
            if not done:
                run.stop.set()

    def _consume(self, stream: Stream, run: _Run) -> Iterator[str]:
        reader = ChunkReader(stream)
        while True:
            if stream.cancelled:
                run.stop.set()
                stream.stats.finish_reason = "cancelled"
                return
            try:
                kind, value = run.items.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if kind == "end":
                break
            if kind == "error":
                raise _request_error(value) from value
            if "error" in value:
                raise EngineError(f"llama.cpp failed: {value['error'].get('message', value['error'])}")
            yield from reader.deltas(value)
        reader.done()


def _alternating(messages: list[Message]) -> list[Message]:
    """Runs of messages from one role joined into one turn.

    OpenAI's API takes any order, but llama.cpp's template step refuses a conversation
    ending in two assistant messages, and chat templates are written for alternating
    turns; joining keeps every word in order.
    """
    out: list[Message] = []
    for m in messages:
        plain = m["role"] != "tool" and not m.get("tool_calls")
        if plain and out and out[-1]["role"] == m["role"] and not out[-1].get("tool_calls"):
            out[-1] = {"role": m["role"], "content": f"{out[-1]['content']}\n\n{m['content']}"}
        else:
            out.append(m)
    return out


def _request(messages: list[Message], params: GenerationParams, max_tokens: int) -> dict[str, Any]:
    request: dict[str, Any] = {
        "messages": messages,
        "max_tokens": max_tokens,
        "cache_prompt": True,
        "stream_options": {"include_usage": True},
        "return_progress": True,  # a chunk per prompt batch: a stopped reply frees its slot sooner
        "temperature": 0.0 if params.greedy else params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k,
        "repeat_penalty": params.repetition_penalty,
    }
    if params.seed >= 0:
        request["seed"] = params.seed
    if params.stop:
        request["stop"] = list(params.stop)
    grammar_of(params)  # an invalid constraint is an InputError here, not ignored by llama.cpp
    if params.json_schema is not None:
        # As an llguidance grammar (llama.cpp's own schema converter allows free whitespace),
        # with the same one-line layout as the transformers path.
        schema = {**(dict(params.json_schema) or {"type": "object"}), "x-guidance": JSON_LAYOUT}
        request["grammar"] = "%llguidance {}\nstart: %json " + json.dumps(schema)
    if params.grammar:
        request["grammar"] = params.grammar
    if params.tools:
        request["tools"] = [dict(t) for t in params.tools]
        choice = params.tool_choice
        request["tool_choice"] = choice if isinstance(choice, str) else dict(choice)
        request["parallel_tool_calls"] = params.parallel_tool_calls
    return request


def _request_error(e: Exception) -> Exception:
    """llama.cpp raises ValueError for a request it cannot run (a bad schema or grammar)."""
    if isinstance(e, ValueError):
        return InputError(f"The model cannot follow this request: {str(e).strip()[:300]}")
    return EngineError(f"llama.cpp failed: {type(e).__name__}: {e}")
