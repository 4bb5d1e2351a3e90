"""The CLI as a user runs it: a real subprocess, exit codes, one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def seesay(
    *args: str, home: Path, timeout: float = 300, stdin: str | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "SEESAY_HOME": str(home), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "seesay", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        input=stdin,
    )


@pytest.mark.slow
def test_once_answers_with_bundled_model(seesay_home: Path) -> None:
    result = seesay(
        "chat", "--once", "What is the capital of France?", "--temperature", "0", home=seesay_home
    )
    assert result.returncode == 0, result.stderr
    assert "Paris" in result.stdout


def test_once_streams_and_saves_history(seesay_home: Path) -> None:
    from seesay.store import HistoryStore

    result = seesay("chat", "--once", "hello", "--max-tokens", "8", home=seesay_home)
    assert result.returncode == 0, result.stderr
    store = HistoryStore.open()
    [conv] = store.list_conversations()
    roles = [m.role for m in store.messages(conv.id)]
    assert roles == ["user", "assistant"]
    assert store.messages(conv.id)[1].content == result.stdout.rstrip("\n")


def test_interactive_chat_ignores_empty_lines(seesay_home: Path) -> None:
    result = seesay(
        "chat",
        "--max-tokens",
        "4",
        home=seesay_home,
        stdin="\n  \nhi\n/quit\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("you> ") == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["chat", "--once", "  "], "The prompt is empty"),
        (["chat", "--once", "hi", "--device", "tpu"], "model.device: expected one of auto, cpu, cuda"),
        (["chat", "--once", "hi", "--model", "/no/such/model"], "does not exist"),
        (["chat", "--once", "hi", "--remote", "http://127.0.0.1:9/v1"], "Cannot reach the model server"),
    ],
)
def test_errors_are_one_line_and_nonzero(seesay_home: Path, args: list[str], message: str) -> None:
    result = seesay(*args, home=seesay_home, timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seesay: error: ") and message in lines[0], result.stderr


def test_malformed_config_file(seesay_home: Path) -> None:
    (seesay_home / "config").mkdir(parents=True)
    (seesay_home / "config" / "config.toml").write_text("[model\n")
    result = seesay("models", home=seesay_home, timeout=60)
    assert result.returncode == 1
    assert "is not valid TOML" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_models_lists_source_device_and_recommendations(seesay_home: Path) -> None:
    result = seesay("models", home=seesay_home, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "SmolLM2-135M-Instruct (bundled with SeeSay" in result.stdout
    assert "Runs on: llama.cpp on " in result.stdout
    import torch

    if torch.cuda.is_available():
        assert "safetensors in bfloat16" in result.stdout and "Qwen/Qwen2.5-1.5B-Instruct " in result.stdout
    else:  # no CUDA: quantized GGUF files, with the RAM each needs
        assert "quantized GGUF" in result.stdout and "Qwen/Qwen2.5-1.5B-Instruct-GGUF" in result.stdout
        assert "needs" in result.stdout


def test_models_pull_offline_is_a_clear_error(seesay_home: Path) -> None:
    result = seesay("models", "pull", "Qwen/Qwen2.5-0.5B-Instruct", home=seesay_home, timeout=60)
    assert result.returncode == 1
    assert "hub is not reachable" in result.stderr


@pytest.mark.slow
def test_bench_llm_json(seesay_home: Path, bundled_model_dir: Path) -> None:
    """The engine beside llama.cpp's own server and plain generate, on the bundled GGUF."""
    result = seesay("bench", "llm", "--tokens", "32", "--runs", "2", home=seesay_home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for side in ("engine", "llama_server", "generate"):
        assert {"load_s", "ttft_s", "decode_tok_s", "peak_rss_mb"} <= set(data[side])
    assert data["engine"]["backend"] == "llama.cpp"
    assert data["greedy_match_llama_server"] is True  # the same kernels give the same greedy text
    assert data["ratio_to_llama_server"] > 0 and data["speedup_vs_generate"] > 0
    assert data["engine"]["conversation"]["turns"] == 10
    assert data["engine"]["revision"]["with_ngram_drafts"]["tokens"] > 100


def test_bench_llm_json_transformers(seesay_home: Path, tiny_model_dir: Path) -> None:
    result = seesay(
        "bench", "llm", "--model", str(tiny_model_dir), "--tokens", "16", "--runs", "1", home=seesay_home
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["engine"]["backend"] == "transformers" and "llama_server" not in data
    assert {"load_s", "ttft_s", "decode_tok_s", "peak_rss_mb"} <= set(data["generate"])
    assert data["greedy_match_generate"] is True  # the lean decoder computes what generate does


def test_bench_llm_measures_the_remote_server(seesay_home: Path) -> None:
    """--remote is the engine that is timed (llama.cpp's server on loopback stands in for vLLM)."""
    import secrets

    import xllamacpp as xlc

    from seesay.inference.resolve import bundled_gguf

    key = secrets.token_urlsafe(16)
    p = xlc.CommonParams()
    p.model.path = str(bundled_gguf())
    p.n_ctx, p.hostnames, p.port, p.api_keys, p.verbosity = 4096, ["127.0.0.1"], 0, [key], -1
    server = xlc.Server(p)
    env_key = {"SEESAY_REMOTE_API_KEY": key}
    old = {k: os.environ.get(k) for k in env_key}
    os.environ.update(env_key)
    try:
        result = seesay(
            "bench",
            "llm",
            "--remote",
            server.listening_address + "/v1",
            "--tokens",
            "16",
            "--runs",
            "1",
            home=seesay_home,
            timeout=300,
        )
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["engine"]["backend"] == "remote" and data["engine"]["device"].startswith("remote (127.0.0.1")
    assert data["engine"]["decode_tok_s"] > 0 and "generate" not in data


def test_chat_commands_help_new_resume_and_model(seesay_home: Path) -> None:
    first = seesay(
        "chat",
        "--once",
        "remember the word lighthouse",
        "--max-tokens",
        "4",
        home=seesay_home,
    )
    assert first.returncode == 0, first.stderr
    script = "/help\n/resume\n/resume 1\nand now?\n/new\n/model /no/such/model\n/model\nbye\n/quit\n"
    result = seesay("chat", "--max-tokens", "4", home=seesay_home, stdin=script)
    assert result.returncode == 0, result.stderr
    err = result.stderr
    assert "/resume [N]" in err and "/model [NAME]" in err  # the help
    assert "1. remember the word lighthouse" in err and "Continuing (2 messages)" in err
    assert "New conversation." in err
    assert "does not exist" in err and "Still using" in err
    assert "Model: SmolLM2-135M-Instruct" in err  # the failed switch kept the working model
    assert "Traceback" not in err
    from seesay.store import HistoryStore

    store = HistoryStore.open()
    conversations = store.list_conversations()
    assert len(conversations) == 2  # the resumed one grew, /new started another
    resumed = next(c for c in conversations if c.title.startswith("remember"))
    assert [m.content for m in store.messages(resumed.id) if m.role == "user"] == [
        "remember the word lighthouse",
        "and now?",
    ]


def test_chat_resume_flag_and_a_missing_id(seesay_home: Path) -> None:
    assert seesay("chat", "--once", "hello", "--max-tokens", "4", home=seesay_home).returncode == 0
    again = seesay(
        "chat",
        "--resume",
        "--once",
        "again",
        "--max-tokens",
        "4",
        home=seesay_home,
    )
    assert again.returncode == 0 and "Continuing (2 messages)" in again.stderr
    # said before any model loads (that took 11 s): the model named here does not even exist
    missing = seesay(
        "chat",
        "--model",
        str(seesay_home / "no-such-model"),
        "--resume",
        "999",
        "--once",
        "x",
        home=seesay_home,
    )
    assert missing.returncode == 1 and missing.stderr.strip() == (
        "seesay: error: There is no saved conversation with id 999."
    )


def test_ctrl_c_stops_a_reply_and_the_chat_goes_on(seesay_home: Path) -> None:
    """SIGINT during a long reply: the reply stops (saved as interrupted), no traceback, next prompt."""
    import signal
    import time

    env = {**os.environ, "SEESAY_HOME": str(seesay_home), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "seesay", "chat", "--max-tokens", "3000", "--temperature", "1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # as from a terminal: a runner started in the background passes SIGINT on ignored, and
        # Python then never turns it into KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("Write a very long story about the sea.\n")
    proc.stdin.flush()
    proc.stdout.read(20)  # the reply is streaming
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    _out, err = proc.communicate("/quit\n", timeout=60)
    assert proc.returncode == 0, err
    assert "[stopped]" in err and "Traceback" not in err
    from seesay.store import HistoryStore

    [conversation] = HistoryStore.open().list_conversations()
    assert HistoryStore.open().messages(conversation.id)[-1].status == "interrupted"
