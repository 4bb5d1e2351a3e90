"""llama.cpp in this process, behind a door only SeeSay holds the key to.

``xllamacpp.Server`` runs llama.cpp's own server loop on its threads (parallel slots with
continuous batching, prompt reuse by longest common prefix, grammar- and JSON-schema-
constrained sampling, n-gram speculation) and takes requests handed to it in-process,
streaming chunks to a Python callback. Every such server also opens an HTTP listener,
which cannot be turned off. So it is bound to loopback on a port the OS picks, serves
only under a random path prefix, asks for a random key that never leaves this process,
and sends no CORS grant: nothing else on the machine, browser pages included, can use
it. SeeSay itself uses that listener only for what the in-process calls lack: the chat
template and the tokenizer, to count a conversation's tokens.
"""

from __future__ import annotations

import atexit
import logging
import secrets
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from seesay.errors import EngineError, InputError, ModelError
from seesay.inference.engine import Message

log = logging.getLogger(__name__)

Chunk = dict[str, Any]
# Prompt tokens per batch: a Stop or another slot's next token waits at most one batch
# (~0.6 s for 256 tokens of a 135M model on two cores); bigger batches gained under 3 %.
BATCH_TOKENS = 256
GGUF_MAGIC = b"GGUF"
# llama.cpp's listener gives each open connection a thread of its own until the connection
# closes; so the client keeps no more connections than there are threads, or a new one
# waits out another's keep-alive (5 s).
HTTP_THREADS = 4
RAM_CACHE_MB = 128


@dataclass(frozen=True)
class ServerOptions:
    slots: int  # sequences decoded together
    pool_tokens: int  # KV cache shared by all slots
    threads: int  # 0: llama.cpp's choice (the physical cores)
    gpu: bool  # offload every layer when the build has a GPU backend
    draft_ngrams: bool = True  # n-gram speculation (off only to measure what it gains)


def check_gguf(path: Path) -> None:
    """A clear error for a missing or foreign file (llama.cpp only says 'failed to init')."""
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise ModelError(f"Cannot read model file {path}: {e.strerror or e}") from e
    if magic != GGUF_MAGIC:
        raise ModelError(f"Model file {path} is not a GGUF file (it does not start with 'GGUF').")


def gpu_backends() -> list[str]:
    """Names of the GPU devices this llama.cpp build can use (empty for the CPU wheel)."""
    import xllamacpp

    return [
        str(d["description"] or d["name"])
        for d in xllamacpp.get_device_info()
        if d["type"] != xllamacpp.ggml_backend_dev_type.GGML_BACKEND_DEVICE_TYPE_CPU
    ]


class LlamaServer:
    """One GGUF model served by llama.cpp inside this process."""

    def __init__(self, gguf: Path, alias: str, options: ServerOptions) -> None:
        import xllamacpp as xlc

        check_gguf(gguf)
        self._key = secrets.token_urlsafe(32)
        prefix = "/" + secrets.token_hex(16)
        p = xlc.CommonParams()
        p.model.path = str(gguf)
        p.model_alias = {alias}
        p.n_ctx = options.pool_tokens
        p.n_parallel = options.slots
        p.kv_unified = True  # one pool: a long conversation may use what idle slots do not
        p.n_batch = p.n_ubatch = BATCH_TOKENS
        if options.threads > 0:
            p.cpuparams.n_threads = p.cpuparams_batch.n_threads = options.threads
        p.n_gpu_layers = -1 if options.gpu else 0
        # Editing a page or code repeats much of the prompt: n-gram lookup drafts the repeats
        # and one batch verifies them (exact: the reply is what plain decoding gives).
        if options.draft_ngrams:
            p.speculative.types = [xlc.common_speculative_type.COMMON_SPECULATIVE_TYPE_NGRAM_MOD]
            # A page's unchanged stretches are long: drafts of up to 128 tokens decoded a revision
            # at 240 tok/s where the default 64 gave 194.
            p.speculative.ngram_mod.n_max = 128
        # An idle slot's conversation moves out of the shared KV cache into a bounded RAM cache (a
        # full 4k-token conversation of the bundled model is ~95 MB), and comes back when its next
        # turn arrives: on the CPU every reply's attention runs over all the cells in use, so
        # parked conversations would slow the live ones (measured: a 90-token turn at 1,400 tokens
        # of context 0.43 s beside two parked conversations, 0.23 s without them).
        p.cache_ram_mib = RAM_CACHE_MB
        p.cache_idle_slots = True
        p.verbosity = -1
        p.hostnames = ["127.0.0.1"]
        p.port = 0
        p.api_keys = [self._key]
        p.api_prefix = prefix
        p.cors_origins = ""
        p.ui = False
        p.endpoint_slots = p.endpoint_props = p.endpoint_metrics = False
        p.n_threads_http = HTTP_THREADS
        try:
            self._server = xlc.Server(p)
        except RuntimeError as e:
            raise ModelError(
                f"llama.cpp could not load {gguf}: the file is damaged, incomplete or of an "
                "architecture this llama.cpp does not know."
            ) from e
        self.address = self._server.listening_address
        self._active = 0  # requests inside llama.cpp now
        self._closing = False
        self._cond = threading.Condition()
        _live.add(self)
        self._http = httpx.Client(
            base_url=self.address + prefix,
            timeout=60,
            headers={"Authorization": f"Bearer {self._key}"},
            limits=httpx.Limits(max_connections=HTTP_THREADS, max_keepalive_connections=HTTP_THREADS),
        )

    def chat(self, request: Mapping[str, Any], on_chunk: Callable[[Chunk], bool]) -> None:
        """Run one streamed chat request; ``on_chunk`` returns True to stop it (frees the slot)."""
        with self._cond:
            if self._closing or self._server is None:
                raise EngineError("The model was unloaded.")
            self._active += 1
            server = self._server
        try:
            server.handle_chat_completions(
                {**request, "stream": True}, lambda chunk: on_chunk(chunk) or self._closing
            )
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def count(self, messages: Sequence[Message]) -> int:
        """Tokens of the prompt these messages make, exactly as a request would have it."""
        prompt = self._post("/apply-template", {"messages": list(messages)})["prompt"]
        return len(
            self._post("/tokenize", {"content": prompt, "add_special": True, "parse_special": True})["tokens"]
        )

    def renders_tools(self) -> bool:
        """Whether the model's chat template puts a tool list in the prompt (it was trained to call them)."""
        probe = {
            "type": "function",
            "function": {"name": "seesay_probe_tool", "description": "", "parameters": {"type": "object"}},
        }
        try:
            prompt = self._post(
                "/apply-template", {"messages": [{"role": "user", "content": "hi"}], "tools": [probe]}
            )
        except (EngineError, InputError):
            return False
        return "seesay_probe_tool" in str(prompt.get("prompt", ""))

    def model_meta(self) -> dict[str, Any]:
        """What llama.cpp read from the file: n_ctx_train, n_params, size, ftype (quantization)."""
        try:
            resp = self._http.get("/v1/models")
            return dict(resp.json()["data"][0].get("meta") or {})
        except (httpx.HTTPError, ValueError, KeyError, IndexError):
            log.warning("llama.cpp did not describe its model", exc_info=True)
            return {}

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            resp = self._http.post(path, json=body)
        except httpx.HTTPError as e:
            raise EngineError(f"llama.cpp did not answer ({e}).") from e
        if resp.status_code == 400:  # the messages themselves (a template that cannot take them)
            raise InputError(f"The model cannot take these messages: {_message_of(resp)}")
        if resp.status_code != 200:
            raise EngineError(
                f"llama.cpp refused {path.lstrip('/')} (HTTP {resp.status_code}): {resp.text[:200]}"
            )
        return dict(resp.json())

    def close(self, wait_s: float = 10.0) -> None:
        """Stop every request at its next token, then free the model and close the listener.

        A thread still inside llama.cpp when the interpreter exits is unwound by force and
        llama.cpp aborts the process; so requests end first (at exit too, see below).
        """
        with self._cond:
            self._closing = True
            self._cond.wait_for(lambda: self._active == 0, timeout=wait_s)
            server, self._server = self._server, None
        self._http.close()
        del server  # llama.cpp's destructor waits for its loop to exit


_live: weakref.WeakSet[LlamaServer] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for server in list(_live):
        server.close(wait_s=5.0)


def _message_of(resp: httpx.Response) -> str:
    """The error message in llama.cpp's JSON answer, else the start of its text."""
    try:
        return str(resp.json()["error"]["message"])[:300]
    except (ValueError, KeyError, TypeError):
        return resp.text[:200]
