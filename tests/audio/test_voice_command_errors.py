"""``seesay say`` and ``seesay transcribe`` when asked for too much, for nothing, or for the wrong thing.

Every failure must be one line on stderr and a non-zero exit, and leave no output file
behind. The memory cases run the real CLI in a child process so its own peak RSS
(VmHWM) and a real allocation failure (an address-space limit) can be measured.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from seesay import cli
from tests.audio.conftest import FRONT_CENTER, write_wav

ROOT = Path(__file__).resolve().parents[2]
WORDS = "the quick brown fox jumps over a lazy dog while seven small robots paint blue houses".split()  # noqa: SIM905


def _unpunctuated(n: int, ending: str = "") -> str:
    rng = np.random.default_rng(3)
    text = ""
    while len(text) < n - len(ending):
        text += " ".join(rng.choice(WORDS, 50)) + " "
    return text[: n - len(ending)].rsplit(" ", 1)[0] + " " + ending


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("seesay: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _no_files(folder: Path) -> bool:
    """No output and no hidden partial file (``.NAME.XXXX.part``) left behind."""
    return not [p for p in folder.iterdir() if p.name.endswith((".wav", ".part"))]


def test_say_into_a_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["say", "Hello.", "-o", str(out)]) == 1
    assert "is a folder" in _one_error_line(capsys.readouterr().err)
    assert _no_files(out)
    assert cli.main(["say", "Hello.", "-o", str(tmp_path / "missing" / "x.wav")]) == 1
    assert "does not exist" in _one_error_line(capsys.readouterr().err)


def test_say_with_only_control_characters_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "ctrl.wav"
    assert cli.main(["say", "\x00\x01\x07\x1b", "-o", str(target)]) == 1
    assert "Nothing to say" in _one_error_line(capsys.readouterr().err)
    assert _no_files(tmp_path)


def test_say_model_picks_the_piper_voice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from seesay.audio.tts import bundled_voice

    model, config = bundled_voice()
    (tmp_path / "other.onnx").symlink_to(model)
    (tmp_path / "other.onnx.json").symlink_to(config)
    out = tmp_path / "hi.wav"
    assert cli.main(["say", "Hi there.", "--model", str(tmp_path / "other.onnx"), "-o", str(out)]) == 0
    assert sf.info(str(out)).duration > 0.3
    capsys.readouterr()
    missing = tmp_path / "absent.onnx"
    assert cli.main(["say", "Hi there.", "--model", str(missing), "-o", str(tmp_path / "no.wav")]) == 1
    assert str(missing) in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "no.wav").exists()


def test_say_refuses_model_flags_it_has_no_use_for(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["say", "Hi.", "--remote", "http://127.0.0.1:9/v1", "--dtype", "float16"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "--dtype" in line and "--remote" in line


def test_transcribe_reports_a_truncated_wav(
    tmp_path: Path, speech16k, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = write_wav(tmp_path / "whole.wav", speech16k("The library opens at nine in the morning."))
    data = whole.read_bytes()
    header_only = tmp_path / "header-only.wav"
    header_only.write_bytes(data[:44])
    half = tmp_path / "half.wav"
    half.write_bytes(data[: len(data) // 2])
    for cut in (header_only, half):
        assert cli.main(["transcribe", str(cut)]) == 1
        out, err = capsys.readouterr()
        assert "(no speech)" not in out
        lines = err.strip().splitlines()
        assert lines[0].startswith(f"seesay: error: {cut}: the file is cut short") and "Traceback" not in err


def test_transcribe_model_picks_the_whisper_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from seesay.audio.stt import bundled_model_dir

    assert (
        cli.main(["transcribe", "--model", str(bundled_model_dir()), "--device", "cpu", str(FRONT_CENTER)])
        == 0
    )
    assert "front center" in capsys.readouterr().out.lower()
    missing = tmp_path / "no-such-model"
    assert cli.main(["transcribe", "--model", str(missing), str(FRONT_CENTER)]) == 1
    assert str(missing) in _one_error_line(capsys.readouterr().err)


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="limits the child's address space")
def test_running_out_of_memory_while_speaking_is_one_line(tmp_path: Path) -> None:
    """A real allocation failure inside onnxruntime: the child caps its address space at
    what it has mapped once the libraries are loaded, plus less than the voice and one
    piece of speech need (~60 MB of weights, ~200 MB of activations)."""
    target = tmp_path / "speech.wav"
    script = textwrap.dedent(
        f"""
        import os, resource, sys
        import numpy, onnxruntime, piper, soundfile
        from seesay import cli
        status = open("/proc/self/status").read()
        size = int(status.split("VmSize:")[1].split()[0]) * 1024
        margin = (200 + 8 * (os.cpu_count() or 1)) * 2**20  # and a stack for each onnxruntime thread
        resource.setrlimit(resource.RLIMIT_AS, (size + margin, resource.RLIM_INFINITY))
        sys.exit(cli.main(["say", {_unpunctuated(600)!r}, "-o", {str(target)!r}]))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], env=_child_env(), capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 1, run.stderr
    assert "out of memory" in _one_error_line(run.stderr)
    assert _no_files(tmp_path)


def _peak_rss_mb(child: subprocess.Popen[bytes]) -> float:
    """The child's peak RSS (VmHWM), read until it exits. Not ``wait4``'s ru_maxrss: the kernel
    carries the parent's peak over into a child started by vfork + exec, so a big test process
    would be blamed on the child."""
    peak_kb = 0
    status = Path(f"/proc/{child.pid}/status")
    while child.poll() is None:
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            peak_kb = max(peak_kb, int(fields.get("VmHWM", "0 kB").split()[0]))
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    return peak_kb / 1024


@pytest.mark.slow
@pytest.mark.timeout(900)  # ~95 minutes of speech: 250-340 s on two cores, above the usual limit
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the child's peak RSS from /proc")
def test_100_kb_of_unpunctuated_text_is_spoken_to_the_end_in_bounded_memory(
    tmp_path: Path, transcriber
) -> None:
    """The one long case: ~95 minutes of speech streamed into a file.

    Synthesised whole it needed tens of gigabytes and died inside onnxruntime; in pieces
    the voice's memory levels off (~680 MB RSS for the whole process, measured).
    """
    from seesay.audio.resample import resample

    text = _unpunctuated(100_000, ending="and that is the end of the story")
    target = tmp_path / "long.wav"
    t0 = time.monotonic()
    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "seesay", "say", text, "-o", str(target)],
            env=_child_env(),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        peak_mb = _peak_rss_mb(child)
    elapsed = time.monotonic() - t0
    assert child.returncode == 0, log.read_text()
    assert peak_mb < 1000, f"peak RSS {peak_mb:.0f} MB"
    info = sf.info(str(target))
    assert info.duration > len(text) / 30, info.duration  # ~17 characters a second
    with sf.SoundFile(str(target)) as f:
        f.seek(max(0, f.frames - 6 * f.samplerate))
        tail = f.read(dtype="float32")
    heard = transcriber.transcribe(resample(tail, info.samplerate, 16000)).text.lower()
    assert "end" in heard and "story" in heard, heard
    print(f"100 KB: {elapsed:.0f} s, {info.duration:.0f} s of speech, peak RSS {peak_mb:.0f} MB")
