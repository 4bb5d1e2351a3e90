"""CLI commands over the engine: ``chat``, ``models``, ``bench llm``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from seesay.cli import bench_commands
from seesay.config import Settings
from seesay.errors import InputError, SeeSayError


def add_commands(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    chat = sub.add_parser("chat", parents=parents, help="chat in the terminal (streaming, saved to history)")
    chat.add_argument("--once", metavar="PROMPT", help="send one prompt, print the reply, exit")
    chat.add_argument("--max-tokens", type=int, help="longest reply in tokens")
    chat.add_argument("--temperature", type=float, help="0 for deterministic replies")
    chat.add_argument("--no-history", action="store_true", help="do not save this chat")
    chat.set_defaults(func=_chat)

    models = sub.add_parser("models", parents=parents, help="which model would load; recommended models")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION")
    pull = msub.add_parser("pull", parents=parents, help="download a model from the Hugging Face hub")
    pull.add_argument("model_id", help="e.g. Qwen/Qwen2.5-1.5B-Instruct")
    pull.set_defaults(func=_pull)
    models.set_defaults(func=_models)

    llm = bench_commands(sub, parents).add_parser(
        "llm", parents=parents, help="engine vs plain generate: load, TTFT, tokens/s, RSS")
    llm.add_argument("--tokens", type=int, default=64, help="tokens to decode per run")
    llm.add_argument("--runs", type=int, default=3, help="prompts to average over")
    llm.add_argument("--no-baseline", action="store_true", help="skip plain generate")
    llm.add_argument("--random-config", choices=("1b", "3b", "8b"),
                     help="time a randomly initialised Llama of this size instead (GPU throughput)")
    llm.set_defaults(func=_bench_llm)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if getattr(args, "max_tokens", None) is not None:
        out["generation.max_new_tokens"] = args.max_tokens
    if getattr(args, "temperature", None) is not None:
        out["generation.temperature"] = args.temperature
    return out


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.chat import ChatSession
    from seesay.inference import create_engine

    settings = settings.replace(_overrides(args), source="command line")
    if args.once is not None and not args.once.strip():
        raise InputError("The prompt is empty; nothing to send.")
    engine = create_engine(settings)
    resolved = getattr(engine, "resolved", None)
    if resolved is not None and not resolved.ready and sys.stderr.isatty():
        engine.load(_progress_bar())  # first run: show the conversion or download
        sys.stderr.write("\n")
    session = ChatSession(engine, settings, save=not args.no_history)
    if args.once is not None:
        _reply(session, args.once)
        return 0
    print(f"SeeSay chat with {engine.model_name} — empty line ignored, Ctrl-D or /quit to leave.",
          file=sys.stderr)
    while True:
        try:
            prompt = input("you> ")
        except EOFError:
            print(file=sys.stderr)
            return 0
        if prompt.strip() in ("/quit", "/exit"):
            return 0
        if not prompt.strip():
            continue
        try:
            _reply(session, prompt)
        except KeyboardInterrupt:
            print("\n[stopped]", file=sys.stderr)
        except SeeSayError as e:  # the conversation goes on after one failed reply
            print(f"seesay: error: {e}", file=sys.stderr)


def _reply(session: Any, prompt: str) -> None:
    stream = session.send(prompt)
    for delta in stream:
        sys.stdout.write(delta)
        sys.stdout.flush()
    sys.stdout.write("\n")
    sys.stdout.flush()
    if stream.stats.trim:
        print(f"note: {stream.stats.trim.describe()}", file=sys.stderr)


def _models(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.inference.device import describe, pick_device, pick_dtype
    from seesay.inference.hub import RECOMMENDED, machine_memory_gb
    from seesay.inference.resolve import resolve

    if settings.remote.base_url:
        name = settings.remote.model or "server default"
        print(f"Remote server: {settings.remote.base_url} (model: {name})")
    model = resolve(settings.model.name)
    device = pick_device(settings.model.device)
    dtype = str(pick_dtype(settings.model.dtype, device)).removeprefix("torch.")
    print(f"Model:  {model.describe()}")
    if model.converted is not None:
        state = "ready" if model.ready else "made on first load (~20 s)"
        print(f"Cache:  {model.converted} ({state})")
    print(f"Device: {describe(device)}, {dtype}")
    ram, gpu = machine_memory_gb()
    print(f"\nRecommended chat models (RAM free {ram:.1f} GB"
          + (f", GPU free {gpu:.1f} GB)" if gpu is not None else ", no GPU)"))
    print(f"  {'model':40} {'download':>9} {'fits':>5}  notes")
    for rec in RECOMMENDED:
        need = rec.memory_gb(on_gpu=gpu is not None)
        fits = "yes" if need <= (gpu if gpu is not None else ram) else "no"
        print(f"  {rec.repo_id:40} {rec.download_gb:>7.1f}GB {fits:>5}  {rec.note}")
    print("\nUse one with --model ID (after `seesay models pull ID`) or in Settings.")
    return 0


def _pull(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.inference.hub import pull

    path = pull(args.model_id, _progress_bar())
    print(f"\nDownloaded to {path}")
    return 0


def _progress_bar() -> Any:
    def show(fraction: float, message: str) -> None:
        width = 30
        filled = int(width * fraction)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} {message[:60]:60}")
        sys.stderr.flush()

    return show


def _bench_llm(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.inference.bench import bench_llm

    print(json.dumps(bench_llm(settings, tokens=args.tokens, runs=args.runs,
                               baseline=not args.no_baseline, random_config=args.random_config), indent=2))
    return 0
