"""The real ``seesay serve`` under text and uploads that used to exhaust it or reveal it.

One server subprocess for the module, with the bundled Piper voice and Whisper and no
chat model (``--remote`` at a closed loopback port: these routes never touch it), so
its memory is the speech path's alone. Peak memory is read from the kernel: the test
resets the server's high-water mark (``/proc/PID/clear_refs``) before a request and
reads ``VmHWM`` after it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.server.conftest import Server, start_server, stop_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads memory use from /proc"),
]

WORDS = "the quick brown fox jumps over a lazy dog while seven small robots paint blue houses".split()  # noqa: SIM905
MAX_GROWTH_MB = 300
MAX_FIRST_AUDIO_S = 2.0


def _unpunctuated(n: int) -> str:
    rng = np.random.default_rng(7)
    text = ""
    while len(text) < n:
        text += " ".join(rng.choice(WORDS, 50)) + " "
    return text[:n]


@pytest.fixture(scope="module")
def speech_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("speech-home")
    running = start_server(home, "--remote", "http://127.0.0.1:9/v1")
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="module")
def api(speech_server: Server) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {speech_server.key}"}
    with httpx.Client(base_url=speech_server.url, headers=headers, timeout=120) as client:
        for fmt in ("wav", "pcm"):  # load the voice and the resampler before anything is measured
            client.post("/audio/speech", json={"input": "Ready.", "response_format": fmt}).raise_for_status()
        yield client


def _kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {key} for {pid}")


@pytest.mark.parametrize("fmt", ["pcm", "wav"])
def test_long_unpunctuated_speech_starts_at_once_in_bounded_memory(
    speech_server: Server, api: httpx.Client, fmt: str
) -> None:
    pid = speech_server.process.pid
    text = _unpunctuated(4096)
    header = 44 if fmt == "wav" else 0
    before = _kib(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # high-water mark := current RSS
    t0 = time.perf_counter()
    first, size = None, 0
    with api.stream("POST", "/audio/speech", json={"input": text, "response_format": fmt}) as r:
        assert r.status_code == 200
        for data in r.iter_bytes():
            size += len(data)
            if first is None and size > header:
                first = time.perf_counter() - t0
    growth_mb = (_kib(pid, "VmHWM") - before) / 1024
    rate = 24000 if fmt == "pcm" else 22050
    seconds = (size - header) / 2 / rate
    assert first is not None and first <= MAX_FIRST_AUDIO_S, f"first audio after {first} s"
    assert growth_mb <= MAX_GROWTH_MB, f"peak RSS grew {growth_mb:.0f} MB"
    assert seconds > 4096 / 30  # spoken to the end: ~17 characters a second, allowing for pace


def test_text_with_only_control_characters_is_refused(api: httpx.Client) -> None:
    r = api.post("/audio/speech", json={"input": "\x00\x01\x02\x07"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "empty_input"


def _wav_bytes(seconds: float, rate: int = 16000) -> bytes:
    import io

    import soundfile as sf

    buf = io.BytesIO()
    t = np.arange(int(seconds * rate)) / rate
    tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(buf, tone, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "problem", "named"),
    [
        ("notes.wav", b"this is not audio at all\n" * 40, "not a readable audio file", "'notes.wav'"),
        ("cut.wav", _wav_bytes(2.0)[:8000], "cut short", "'cut.wav'"),
        ("/home/someone/private/clip.wav", b"", "empty", "'clip.wav'"),
        ("uploads/", b"RIFF", "the uploaded file", "the uploaded file"),
    ],
)
def test_upload_errors_name_the_upload_never_the_server_path(
    api: httpx.Client, filename: str, data: bytes, problem: str, named: str
) -> None:
    r = api.post(
        "/audio/transcriptions",
        data={"model": "whisper-1"},
        files={"file": (filename, data, "audio/wav")},
    )
    assert r.status_code == 400, r.text
    message = r.json()["error"]["message"]
    assert problem in message and named in message
    assert "/tmp" not in message and "seesay-upload" not in message and "private" not in message
