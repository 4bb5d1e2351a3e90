"""CLI commands over the engine: ``chat``, ``models``, ``bench llm``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from seesay.cli.chat import add_arguments as add_chat_arguments
from seesay.cli.chat import run_chat
from seesay.config import Settings


def add_commands(sub: Any, bench: Any, parents: list[argparse.ArgumentParser]) -> None:
    chat = sub.add_parser("chat", parents=parents, help="chat in the terminal (streaming, saved to history)")
    add_chat_arguments(chat)
    chat.set_defaults(func=_chat)

    models = sub.add_parser("models", parents=parents, help="which model would load; recommended models")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION")
    pull = msub.add_parser(
        "pull",
        parents=parents,
        help="download a model from the Hugging Face hub (a quantized GGUF on machines without CUDA)",
    )
    pull.add_argument("model_id", help="e.g. Qwen/Qwen2.5-1.5B-Instruct or Qwen/Qwen2.5-1.5B-Instruct-GGUF")
    pull.add_argument(
        "--safetensors", action="store_true", help="the full safetensors weights even without a CUDA GPU"
    )
    pull.set_defaults(func=_pull)
    models.set_defaults(func=_models)

    llm = bench.add_parser(
        "llm",
        parents=parents,
        help="the engine beside llama.cpp's own server and plain generate: load, TTFT, tokens/s, RSS",
    )
    llm.add_argument("--tokens", type=int, default=64, help="tokens to decode per run")
    llm.add_argument("--runs", type=int, default=3, help="prompts to average over")
    llm.add_argument(
        "--no-baseline",
        action="store_true",
        help="time the engine alone (no llama.cpp server, no plain generate)",
    )
    llm.add_argument(
        "--random-config",
        choices=("1b", "3b", "8b"),
        help="time a randomly initialised Llama of this size instead (GPU throughput)",
    )
    llm.set_defaults(func=_bench_llm)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if getattr(args, "max_tokens", None) is not None:
        out["generation.max_new_tokens"] = args.max_tokens
    if getattr(args, "temperature", None) is not None:
        out["generation.temperature"] = args.temperature
    return out


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    return run_chat(args, settings.replace(_overrides(args), source="command line"), _loaded_engine)


def _loaded_engine(settings: Settings) -> Any:
    """The engine for ``settings``, loaded (with a progress bar for a first GGUF conversion)."""
    from seesay.inference import create_engine

    engine = create_engine(settings)
    resolved = getattr(engine, "resolved", None)
    converting = (
        getattr(engine, "backend", "") == "transformers" and resolved is not None and not resolved.ready
    )
    if converting and sys.stderr.isatty():
        engine.load(_progress_bar())
        sys.stderr.write("\n")
    engine.load()
    return engine


def _models(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.inference.hub import RECOMMENDED, machine_memory_gb
    from seesay.inference.resolve import resolve

    if settings.remote.base_url:
        name = settings.remote.model or "server default"
        print(f"Remote server: {settings.remote.base_url} (model: {name})")
    model = resolve(settings.model.name)
    print(f"Model:   {model.describe()}")
    print(f"Runs on: {_runs_on(model, settings)}")
    ram, gpu = machine_memory_gb()
    gguf = gpu is None
    kind = "quantized GGUF for llama.cpp" if gguf else "safetensors in bfloat16 on the GPU"
    print(
        f"\nRecommended chat models, as {kind} (RAM free {ram:.1f} GB"
        + (f", GPU free {gpu:.1f} GB)" if gpu is not None else ", no CUDA GPU)")
    )
    print(f"  {'model':42} {'download':>9} {'needs':>8} {'fits':>5}  notes")
    for rec in RECOMMENDED:
        repo = (rec.gguf_repo or rec.repo_id) if gguf else rec.repo_id
        need = rec.memory_gb(gguf)
        fits = "yes" if need <= (ram if gguf else gpu or 0.0) else "no"
        print(f"  {repo:42} {rec.download_gb(gguf):>7.1f}GB {need:>6.1f}GB {fits:>5}  {rec.note}")
    print("\nDownload one with `seesay models pull ID`, then use it with --model ID or in Settings.")
    return 0


def _runs_on(model: Any, settings: Settings) -> str:
    """Which backend and device would run the model, without loading torch for a GGUF."""
    backend = settings.model.backend
    if backend == "auto":
        backend = "llama.cpp" if model.is_gguf else "transformers"
    if backend == "llama.cpp":
        from seesay.inference.llama_server import gpu_backends

        gpus = gpu_backends() if settings.model.device != "cpu" else []
        return f"llama.cpp on {gpus[0] if gpus else 'the CPU'}, {settings.model.parallel} replies at once"
    from seesay.inference.device import describe, pick_device, pick_dtype

    device = pick_device(settings.model.device)
    dtype = str(pick_dtype(settings.model.dtype, device)).removeprefix("torch.")
    line = f"transformers on {describe(device)}, {dtype}"
    if model.converted is not None and not model.ready:
        line += f" (dequantised to {model.converted} on first load, ~20 s)"
    return line


def _pull(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.inference.hub import download_for, machine_memory_gb, pull

    cuda = machine_memory_gb()[1] is not None
    repo = args.model_id if args.safetensors else download_for(args.model_id, cuda)
    if repo != args.model_id:
        print(
            f"No CUDA GPU here: downloading the quantized {repo} instead (--safetensors for the full "
            "weights).",
            file=sys.stderr,
        )
    path = pull(repo, _progress_bar())
    print(f"\nDownloaded to {path}\nUse it with --model {repo}")
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

    print(
        json.dumps(
            bench_llm(
                settings,
                tokens=args.tokens,
                runs=args.runs,
                baseline=not args.no_baseline,
                random_config=args.random_config,
            ),
            indent=2,
        )
    )
    return 0
