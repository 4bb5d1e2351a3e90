"""Read aloud in the real window: a reply reaches the (virtual) speaker in the voice mode's
Piper voice, the window stays responsive while it is made, and a second click stops it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from seesay.app.message_actions import READ_TEXT, STOP_TEXT
from tests.audio.conftest import pulse  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

ANSWER = "The lighthouse stands on the northern cape. Its lamp turns twice a minute."


def _recorded(path: Path) -> np.ndarray:
    import soundfile as sf

    if not path.exists() or path.stat().st_size < 100:
        return np.zeros(0, dtype=np.float32)
    audio, _rate = sf.read(str(path), dtype="float32", always_2d=True)
    return audio[:, 0]


def test_read_aloud_plays_the_reply_and_a_second_click_stops_it(
    qtbot: Any,
    make_window: Any,
    pulse: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    window = make_window(start=False)
    window.show()
    assert window.chat.add_exchange("Where is the lighthouse?", ANSWER, {"source": "image"})
    reply = window.chat.view.widgets()[-1]
    button = reply.action_row.speak_button
    qtbot.waitUntil(button.isVisible, timeout=2_000)
    heard = tmp_path / "speaker.wav"
    recorder = pulse.record_speaker(heard)
    try:
        time.sleep(1.0)  # the sound server's stream start-up
        clicked = time.perf_counter()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert time.perf_counter() - clicked < 0.2  # the voice loads and speaks on its own thread
        assert button.text() == STOP_TEXT
        qtbot.waitUntil(lambda: button.text() == READ_TEXT, timeout=60_000)  # read to the end
        time.sleep(0.5)
    finally:
        recorder.terminate()
        recorder.wait(5)
    audio = _recorded(heard)
    loud = np.abs(audio) > 0.02
    assert loud.sum() > 0.5 * 48_000 * 0.2, "the reply was not heard on the speaker"

    long_answer = " ".join([ANSWER] * 12)
    assert window.chat.add_exchange("Tell me more", long_answer, {"source": "image"})
    second = window.chat.view.widgets()[-1]
    qtbot.waitUntil(second.action_row.speak_button.isVisible, timeout=2_000)
    qtbot.mouseClick(second.action_row.speak_button, Qt.MouseButton.LeftButton)
    assert second.action_row.speak_button.text() == STOP_TEXT
    qtbot.wait(1500)
    thread = window.chat.reader._thread
    assert thread is not None and thread.is_alive()  # still reading a long answer
    qtbot.mouseClick(second.action_row.speak_button, Qt.MouseButton.LeftButton)
    assert second.action_row.speak_button.text() == READ_TEXT and window.chat.reader.key is None
    thread.join(3.0)
    assert not thread.is_alive()
