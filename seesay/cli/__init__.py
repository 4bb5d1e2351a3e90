"""``seesay``: the GUI by default, and every core feature as a scriptable subcommand.

A thin shell like the GUI: commands build settings, call the core, print results. Each
module here registers one area's commands (``chat``/``models``, voice, sketches, the API)
and is handed the ``bench`` group to add its benchmark to; the core never imports this
package. Errors from the core (``SeeSayError``) become one line on stderr and exit status 1;
nothing heavy (torch, Qt) is imported until a command needs it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from seesay import __version__
from seesay.config import Settings, load_settings
from seesay.errors import SeeSayError

log = logging.getLogger("seesay")

Handler = Callable[[argparse.Namespace, Settings], int]

# Modules with ``add_commands(subparsers, bench, parents)`` that register more subcommands.
COMMAND_MODULES = [
    "seesay.cli.llm",
    "seesay.cli.sketch",
    "seesay.cli.voice",
    "seesay.cli.serve",
    "seesay.cli.docs",
]


def common_flags() -> argparse.ArgumentParser:
    """Flags every command accepts; they override the settings file and environment."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("model")
    g.add_argument("--model", help="model to load (directory, .gguf file or Hugging Face id)")
    g.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    g.add_argument("--dtype", help="auto, float32, bfloat16 or float16")
    g.add_argument("--remote", metavar="URL", help="use an OpenAI-compatible server instead")
    g.add_argument("--remote-model", metavar="NAME", help="model name to ask the remote server for")
    g.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    return p


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    pairs = {
        "model.name": "model",
        "model.device": "device",
        "model.dtype": "dtype",
        "remote.base_url": "remote",
        "remote.model": "remote_model",
    }
    return {key: getattr(args, attr) for key, attr in pairs.items() if getattr(args, attr, None) is not None}


def build_parser() -> argparse.ArgumentParser:
    parent = common_flags()
    parser = argparse.ArgumentParser(
        prog="seesay",
        parents=[parent],
        description="SeeSay: a private, local assistant. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"seesay {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui = sub.add_parser("gui", parents=[parent], help="open the SeeSay window (the default)")
    gui.set_defaults(func=_run_gui)
    bench = sub.add_parser("bench", parents=[parent], help="measure performance; prints JSON")
    bench_sub = bench.add_subparsers(dest="bench_command", metavar="WHAT", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub, bench_sub, [parent])
    parser.set_defaults(func=_run_gui)
    return parser


def _run_gui(args: argparse.Namespace, settings: Settings) -> int:
    from seesay.app.main import run_app

    return run_app(overrides_from(args))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Handler = args.func
    try:
        settings = None if handler is _run_gui else load_settings(overrides=overrides_from(args))
        return handler(args, settings)  # type: ignore[arg-type]
    except SeeSayError as e:
        print(f"seesay: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("seesay: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
