"""``seesay bench serve``: many streaming clients against the real server on loopback.

It starts the same app ``seesay serve`` runs (in this process, on a free port, no key)
and fires concurrent streaming chat requests through plain HTTP: first ``clients`` at once
(the engine's parallel slots serve them in batches, the rest queue), then a burst larger
than the queue, whose overflow gets 429 and comes back after the ``Retry-After`` it was
given, as a polite client does; every request must end with a complete reply, under
one id, with no more text chunks than the tokens its usage counts (a stream that
borrowed another's tokens would have more). Replies to the same greedy prompt need not
be equal: replies decoded together share one KV cache whose layout depends on the
others, so float sums differ in the last bits and a near tie between two tokens (0.03
in log-probability for the bundled model's first word here) can go either way, as in
any server that batches requests.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from typing import Any

import httpx

from seesay.config import ServerSettings, Settings

MAX_ATTEMPTS = 6
PROMPTS = (
    "Name three colours.",
    "What is the capital of France?",
    "Say hello in French.",
    "Count from one to five.",
)


class LoopbackServer:
    """Uvicorn on 127.0.0.1 in a background thread; ``url`` once started."""

    def __init__(self, app: Any, server: ServerSettings | None = None) -> None:
        import uvicorn

        from seesay.server.connections import uvicorn_config

        server = server or ServerSettings()
        config = uvicorn_config(app, "127.0.0.1", 0, server, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="seesay-bench-server", daemon=True)

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/v1"
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


async def stream_chat(client: httpx.AsyncClient, url: str, prompt: str, tokens: int) -> dict[str, Any]:
    """One streaming request, timed (429s waited out as told); the reply text, ids and usage."""
    try:
        return await _stream_chat(client, url, prompt, tokens)
    except httpx.HTTPError as e:  # a dropped connection is a lost request, reported as such
        return {"error": f"{type(e).__name__}: {e}", "prompt": prompt}


async def _stream_chat(client: httpx.AsyncClient, url: str, prompt: str, tokens: int) -> dict[str, Any]:
    body = {
        "model": "seesay",
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    started = time.perf_counter()
    first = None
    parts: list[str] = []
    ids: set[str] = set()
    usage: dict[str, int] = {}
    done = False
    told: list[int] = []  # Retry-After values received
    for _attempt in range(MAX_ATTEMPTS):
        sent = time.perf_counter()
        async with client.stream("POST", f"{url}/chat/completions", json=body) as response:
            if response.status_code == 429:
                told.append(int(response.headers.get("Retry-After", "1")))
                await response.aread()
            elif response.status_code != 200:
                return {"error": f"HTTP {response.status_code}", "prompt": prompt}
            else:
                async for line in response.aiter_lines():
                    if not line.startswith("data: "):
                        continue
                    data = line[6:]
                    if data == "[DONE]":
                        done = True
                        break
                    event = json.loads(data)
                    if "error" in event:
                        return {"error": event["error"]["message"], "prompt": prompt}
                    ids.add(event["id"])
                    usage = event.get("usage") or usage
                    for choice in event["choices"]:
                        text = choice["delta"].get("content")
                        if text:
                            first = first or time.perf_counter()
                            parts.append(text)
                break
        await asyncio.sleep(told[-1])
    else:
        return {"error": f"still refused after {MAX_ATTEMPTS} attempts", "prompt": prompt, "told": told}
    end = time.perf_counter()
    if not done or len(ids) != 1:
        return {"error": "stream ended without [DONE] or mixed ids", "prompt": prompt}
    return {
        "prompt": prompt,
        "text": "".join(parts),
        "chunks": len(parts),
        "id": ids.pop(),
        "latency": end - sent,
        "ttft": (first or end) - sent,
        "tokens": usage.get("completion_tokens", 0),
        "told": told,
        "waited": sent - started,
    }


async def run_clients(url: str, clients: int, tokens: int, api_key: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(headers=headers, timeout=600, limits=limits) as client:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(stream_chat(client, url, PROMPTS[i % len(PROMPTS)], tokens) for i in range(clients))
        )
        wall = time.perf_counter() - started
    ok = [r for r in results if "error" not in r]
    latencies = sorted(r["latency"] for r in ok)
    total = sum(r["tokens"] for r in ok)
    refused = [r for r in ok if r["told"]]
    return {
        "clients": clients,
        "max_tokens": tokens,
        "completed": len(ok),
        "errors": len(results) - len(ok),
        "refused_429": len(refused),
        "retry_after_s": _percentiles(sorted(float(t) for r in refused for t in r["told"])),
        "accepted_after_first_retry": sum(len(r["told"]) == 1 for r in refused),
        "error_messages": sorted({r["error"] for r in results if "error" in r})[:5],
        "unique_ids": len({r["id"] for r in ok}) == len(ok),
        "chunks_within_usage": all(0 < r["chunks"] <= r["tokens"] for r in ok),
        "wall_s": round(wall, 2),
        "completion_tokens": total,
        "throughput_tok_s": round(total / wall, 1) if wall else 0.0,
        "latency_s": _percentiles(latencies),
        "ttft_s": _percentiles(sorted(r["ttft"] for r in ok)),
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    if len(values) == 1:
        return {"p50": round(values[0], 3), "p95": round(values[0], 3), "max": round(values[0], 3)}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(q[49], 3), "p95": round(q[94], 3), "max": round(values[-1], 3)}


def bench_serve(
    settings: Settings, *, clients: int = 20, tokens: int = 32, burst: int = 60
) -> dict[str, Any]:
    """Start the server and warm the model; time ``clients`` concurrent streams, then a ``burst``."""
    from seesay.inference import create_engine
    from seesay.server import create_app

    engine = create_engine(settings)
    with LoopbackServer(create_app(settings, engine), settings.server) as server:
        t = time.perf_counter()
        warm = asyncio.run(run_clients(server.url, 1, 4))
        load_s = time.perf_counter() - t
        result = {
            "model": engine.model_name,
            "device": engine.device,
            "parallel": engine.parallel,
            "queue_size": settings.server.queue_size,
            "warmup_s": round(load_s, 2),
            "warmup_errors": warm["errors"],
            "concurrent": asyncio.run(run_clients(server.url, clients, tokens)),
        }
        if burst:
            result["burst"] = asyncio.run(run_clients(server.url, burst, tokens))
    return result
