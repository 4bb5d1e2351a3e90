"""End to end with the real bundled SmolLM2: a streamed reply reaches the window."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.app.helpers import stored, type_and_send, wait_idle, wait_ready
from tests.sockets import assert_nothing_answers_without_the_key


@pytest.mark.slow
def test_bundled_model_answers_in_the_window(qtbot: Any, make_window: Any) -> None:
    window = make_window({"generation.max_new_tokens": 24, "generation.temperature": 0.0}, tiny=False)
    wait_ready(qtbot, window)
    assert "SmolLM2" in window.status.model.text()
    type_and_send(qtbot, window, "What is the capital of France? Answer in one word.")
    reply = window.chat.view.widgets()[-1]
    qtbot.waitUntil(lambda: bool(reply.body.toPlainText().strip()), timeout=60_000)
    wait_idle(qtbot, window)
    assert reply.status == "complete"
    assert "paris" in reply.text.lower()
    assert stored(window)[-1].content == reply.text
    # llama.cpp runs inside the window's process: its listener is loopback-only and locked
    sockets = assert_nothing_answers_without_the_key(os.getpid())
    assert sockets and all(ip == "127.0.0.1" for ip, _ in sockets)


@pytest.mark.slow
def test_a_model_revision_does_not_hold_up_the_chat(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    """The studio revises a page through the model while a typed question is answered: the
    reply starts within seconds instead of waiting behind the whole revision, and the revision
    still ends. Two-core machines here differ by more than two times: first token 1 s and
    revision 14-17 s on a quiet one, 3.3 s and 38 s on a slower one; so the first token is
    held to a bound well below any revision, and the revision only to ending."""
    import time

    from seesay.vision import evalset

    window = make_window({"generation.max_new_tokens": 48, "generation.temperature": 0.0}, tiny=False)
    wait_ready(qtbot, window)
    sketch = tmp_path / "landing.png"
    evalset.make("landing", "clean", seed=0).image.save(sketch)
    studio = window.studio
    with qtbot.waitSignal(studio.pageReady, timeout=60_000):
        assert studio.open_image(sketch)
    revised: list[float] = []  # the model's page may equal the old one: watch the studio go idle
    studio.busyChanged.connect(lambda busy: None if busy else revised.append(time.perf_counter()))
    started = time.perf_counter()
    assert studio.revise("write a warmer welcome for new visitors")  # beyond the rules: the model
    assert studio.busy
    qtbot.wait(500)  # the revision's prompt is being read
    asked = time.perf_counter()
    type_and_send(qtbot, window, "What is the capital of France?")
    reply = window.chat.view.widgets()[-1]
    qtbot.waitUntil(lambda: bool(reply.body.toPlainText().strip()), timeout=30_000)
    first_token = time.perf_counter() - asked
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: bool(revised), timeout=120_000)
    assert first_token < 8.0, first_token
    assert first_token < revised[0] - started
    assert not revised or reply.status == "complete"


@pytest.mark.slow
def test_cold_launch_is_ready_in_seconds_and_stays_small(tmp_path: Path) -> None:
    """A first launch (empty user dirs): the model is ready in under 10 s from process start, no
    conversion step, and the whole window process with the chat model stays under 700 MB."""
    import subprocess
    import sys

    script = (
        "import time, psutil\n"
        "from seesay.app.main import build_window, create_application\n"
        "app = create_application()\n"
        "window = build_window({})\n"
        "window.show(); window.start()\n"
        "while window.host.state not in ('ready', 'failed'):\n"
        "    app.processEvents(); time.sleep(0.01)\n"
        "ready = time.time() - psutil.Process().create_time()\n"
        "for _ in range(50):\n"
        "    app.processEvents(); time.sleep(0.01)\n"
        "from seesay.inference.bench import _peak_rss_mb\n"
        "print(window.host.state, round(ready, 2), round(_peak_rss_mb()))\n"
        "window.close()\n"
    )
    env = {**os.environ, "SEESAY_HOME": str(tmp_path / "fresh-home"), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr[-2000:]
    state, ready_s, peak_mb = out.stdout.split()[-3:]
    assert state == "ready"
    assert float(ready_s) < 10.0
    assert int(peak_mb) <= 700
    assert not (tmp_path / "fresh-home" / "cache" / "models").exists()  # nothing was converted
