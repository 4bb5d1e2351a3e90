"""End to end with the real bundled SmolLM2: a streamed reply reaches the window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.app.helpers import stored, type_and_send, wait_idle, wait_ready


@pytest.mark.slow
def test_bundled_model_answers_in_the_window(qtbot: Any, make_window: Any, bundled_model_dir: Path) -> None:
    window = make_window({"model.name": str(bundled_model_dir), "generation.max_new_tokens": 24,
                          "generation.temperature": 0.0}, tiny=False)
    wait_ready(qtbot, window)
    assert "SmolLM2" in window.status.model.text() or bundled_model_dir.name in window.status.model.text()
    type_and_send(qtbot, window, "What is the capital of France? Answer in one word.")
    reply = window.chat.view.widgets()[-1]
    qtbot.waitUntil(lambda: bool(reply.body.toPlainText().strip()), timeout=60_000)
    wait_idle(qtbot, window)
    assert reply.status == "complete"
    assert "paris" in reply.text.lower()
    assert stored(window)[-1].content == reply.text
