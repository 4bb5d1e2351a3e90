"""CLI: ``seesay serve`` (the OpenAI-compatible API) and ``seesay bench serve``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from typing import Any

from seesay.config import Settings
from seesay.errors import ConfigError

log = logging.getLogger(__name__)


def add_commands(sub: Any, bench: Any, parents: list[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", parents=parents, help="serve an OpenAI-compatible API on this computer")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1; others need the API key)")
    serve.add_argument("--port", type=int, help="TCP port (default from settings, 8765; 0 picks a free one)")
    serve.add_argument(
        "--no-key", action="store_true", help="accept requests without the API key (loopback only)"
    )
    serve.set_defaults(func=_serve)

    b = bench.add_parser(
        "serve",
        parents=parents,
        help="concurrent streaming clients against `seesay serve`: throughput, p50/p95",
    )
    b.add_argument("--clients", type=int, default=20, help="concurrent streaming requests")
    b.add_argument("--tokens", type=int, default=32, help="max_tokens per request")
    b.add_argument(
        "--burst", type=int, default=60, help="then this many at once, more than the queue holds (0 to skip)"
    )
    b.set_defaults(func=_bench_serve)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from seesay.server import create_app
    from seesay.server.connections import uvicorn_config
    from seesay.server.security import is_loopback, load_or_create_key

    host = args.host or settings.server.host
    port = settings.server.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port: expected a port from 0 to 65535, got {port}")
    loopback = is_loopback(host)
    if args.no_key and not loopback:
        raise ConfigError(
            f"--no-key is allowed only on loopback (127.0.0.1, ::1, localhost), not {host}; "
            "other computers must use the API key."
        )
    need_key = not loopback or (settings.server.require_key_on_loopback and not args.no_key)
    key = load_or_create_key(settings.server) if need_key else None
    app = create_app(settings, api_key=key.value if key else None, host=host, preload=True)
    config = uvicorn_config(
        app,
        host,
        port,
        settings.server,
        log_level="info" if args.verbose else "warning",
        access_log=bool(args.verbose),
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            bound = server.servers[0].sockets[0].getsockname()[1]
            shown = f"[{host}]" if ":" in host else host
            print(f"SeeSay API: http://{shown}:{bound}/v1", flush=True)
            if key is None:
                print("API key: not required (loopback only)", flush=True)
            else:
                print(f"API key: {key.source}", flush=True)
            if not loopback:
                print(f"warning: listening on {host}, reachable from other computers", flush=True)
        await task

    asyncio.run(run())
    return 0 if server.started else 1


def _bench_serve(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.server.bench import bench_serve

    result = bench_serve(settings, clients=args.clients, tokens=args.tokens, burst=args.burst)
    print(json.dumps(result, indent=2))
    return 0
