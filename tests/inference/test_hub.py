"""Which download fits this machine, and a downloaded GGUF repository found and run offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from seesay.inference.hub import RECOMMENDED, download_for
from seesay.inference.resolve import bundled_gguf, pick_gguf

ROOT = Path(__file__).resolve().parents[2]


def test_without_cuda_the_quantized_gguf_is_downloaded() -> None:
    assert download_for("Qwen/Qwen2.5-1.5B-Instruct", cuda=False) == "Qwen/Qwen2.5-1.5B-Instruct-GGUF"
    assert download_for("qwen/qwen2.5-1.5b-instruct", cuda=False) == "Qwen/Qwen2.5-1.5B-Instruct-GGUF"
    assert download_for("Qwen/Qwen2.5-1.5B-Instruct", cuda=True) == "Qwen/Qwen2.5-1.5B-Instruct"
    assert download_for("Some/Unknown-Model", cuda=False) == "Some/Unknown-Model"


def test_recommendations_say_what_memory_each_needs() -> None:
    for rec in RECOMMENDED:
        assert rec.download_gb(gguf=True) < rec.download_gb(gguf=False)
        if rec.params_b >= 1:
            assert rec.memory_gb(gguf=True) < rec.memory_gb(gguf=False)  # 4-bit needs far less than bf16
    seven_b = next(r for r in RECOMMENDED if "-7B-" in r.repo_id)
    assert 4 < seven_b.memory_gb(gguf=True) < 6


def test_the_usual_quantization_is_picked_from_a_repository() -> None:
    names = [
        "README.md",
        "qwen2.5-1.5b-instruct-q2_k.gguf",
        "qwen2.5-1.5b-instruct-q4_k_m.gguf",
        "qwen2.5-1.5b-instruct-q8_0.gguf",
        "qwen2.5-7b-instruct-q5_k_m-00001-of-00002.gguf",
        "mmproj-f16.gguf",
    ]
    assert pick_gguf(names) == "qwen2.5-1.5b-instruct-q4_k_m.gguf"
    assert pick_gguf(["a-Q8_0.gguf", "a-F16.gguf"]) == "a-Q8_0.gguf"
    assert pick_gguf(["config.json", "model.safetensors"]) is None


def test_a_pulled_gguf_repository_runs_offline_by_its_id(tmp_path: Path, seesay_home: Path) -> None:
    """The Hugging Face cache layout `models pull` leaves, with the bundled file standing in."""
    gguf = bundled_gguf()
    assert gguf is not None
    repo = tmp_path / "hub" / "models--Example--Tiny-Chat-GGUF"
    snapshot = repo / "snapshots" / "0123456789abcdef0123456789abcdef01234567"
    snapshot.mkdir(parents=True)
    (snapshot / "tiny-chat-q4_k_m.gguf").symlink_to(gguf)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(snapshot.name)
    env = {
        **os.environ,
        "SEESAY_HOME": str(seesay_home),
        "HF_HUB_CACHE": str(tmp_path / "hub"),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }
    models = subprocess.run(
        [sys.executable, "-m", "seesay", "models", "--model", "Example/Tiny-Chat-GGUF"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert models.returncode == 0, models.stderr
    assert "Hugging Face cache" in models.stdout and "tiny-chat-q4_k_m.gguf" in models.stdout
    assert "Runs on: llama.cpp" in models.stdout
    chat = subprocess.run(
        [
            sys.executable,
            "-m",
            "seesay",
            "chat",
            "--model",
            "Example/Tiny-Chat-GGUF",
            "--once",
            "What is the capital of France?",
            "--temperature",
            "0",
            "--no-history",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert chat.returncode == 0, chat.stderr
    assert "Paris" in chat.stdout
