"""``seesay transcribe``, ``say``, ``voice --input-file`` and the ``bench voice`` parser."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seesay import cli
from tests.audio.conftest import FRONT_CENTER, write_wav


def test_bench_voice_sits_beside_bench_llm() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["bench", "voice", "--turns", "12"]).turns == 12
    assert parser.parse_args(["bench", "llm", "--runs", "2"]).runs == 2


@pytest.mark.slow
def test_transcribe_reports_each_file_and_continues_past_bad_ones(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.mp3"
    bad.write_text("nope")
    silent = write_wav(tmp_path / "silent.wav", np.zeros(16000, dtype=np.float32), 8000, channels=2)
    code = cli.main(["transcribe", str(FRONT_CENTER), str(bad), str(silent)])
    out, err = capsys.readouterr()
    assert code == 1
    lines = out.strip().splitlines()
    assert lines[0].lower() == f"{FRONT_CENTER}: front center.".lower()
    assert lines[1] == f"{silent}: (no speech)"
    assert f"{bad}: not a readable audio file" in err and "1 of 3 files" in err


@pytest.mark.slow
def test_say_to_a_file_then_transcribe_it(tmp_path, capsys) -> None:
    out = tmp_path / "hello.wav"
    assert cli.main(["say", "Good morning, how are you?", "-o", str(out)]) == 0
    assert cli.main(["transcribe", str(out)]) == 0
    heard = capsys.readouterr().out.lower()
    assert "good morning" in heard and "how are you" in heard
    assert cli.main(["say", "  "]) == 1


@pytest.mark.slow
def test_voice_turn_from_file(tmp_path, tiny_model_dir, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SEESAY_GENERATION_MAX_NEW_TOKENS", "24")  # a random model's reply: keep it short
    question = tmp_path / "q.wav"
    assert cli.main(["say", "What is the capital of France?", "-o", str(question)]) == 0
    reply = tmp_path / "reply.wav"
    code = cli.main(
        [
            "voice",
            "--model",
            str(tiny_model_dir),
            "--device",
            "cpu",
            "--no-history",
            "--input-file",
            str(question),
            "--output-file",
            str(reply),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("you> What is the capital of France?")
    report = json.loads(out[out.rindex("\n{\n") + 1 :])  # the random reply itself may hold a "{"
    assert set(report["latency"]) >= {
        "endpointing_s",
        "stt_s",
        "llm_first_sentence_s",
        "tts_first_sentence_s",
        "voice_to_voice_s",
    }
    assert reply.exists()
