"""The real ``seesay serve`` in a subprocess on a free loopback port, for the official client.

One server per session (bundled SmolLM2 from the converted cache, key required, a
2 MB body limit so the 413 test stays cheap) keeps the suite to a single model load.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    url: str  # ends in /v1
    key: str
    home: Path
    process: subprocess.Popen[str]
    output: list[str]


def start_server(home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 90) -> Server:
    """Run ``python -m seesay serve --port 0 ARGS`` and wait for the URL it prints."""
    full_env = {
        **os.environ,
        "SEESAY_HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "seesay", "serve", "--port", "0", *args],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    url = None
    while url is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        match = re.match(r"SeeSay API: (http://\S+/v1)", line)
        if match:
            url = match.group(1)
    if url is None:
        process.kill()
        raise RuntimeError("seesay serve did not start:\n" + "".join(output))
    key_file = home / "config" / "server-api-key"
    key = key_file.read_text().strip() if key_file.exists() else ""
    return Server(url, key, home, process, output)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def server(
    bundled_model_dir: Path, shared_models: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The bundled model, found through the shared converted-model cache (as a user's install would)."""
    home = tmp_path_factory.mktemp("serve-home")
    (home / "cache").mkdir()
    (home / "cache" / "models").symlink_to(shared_models, target_is_directory=True)
    running = start_server(home, env={"SEESAY_SERVER_MAX_BODY_MB": "2", "SEESAY_SERVER_QUEUE_SIZE": "32"})
    yield running
    stop_server(running)


@pytest.fixture()
def client(server: Server):
    import openai

    return openai.OpenAI(base_url=server.url, api_key=server.key, max_retries=0, timeout=120)
