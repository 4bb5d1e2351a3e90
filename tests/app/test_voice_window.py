"""One spoken turn in the real window: a recorded question into the virtual microphone, the
transcript and the streamed reply in the chat view, the reply on the virtual speaker, and
both messages in the store of that conversation. Screenshots of voice mode go to
``$SEESAY_SHOTS`` (default /tmp/seesay-shots) for a person to look at."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from seesay.audio import audiofile
from tests.app.helpers import stored, wait_idle, wait_ready
from tests.audio.conftest import pulse, speech16k, synth, write_wav  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

QUESTION = "What is the capital of France?"
TURN_TIMEOUT_MS = 90_000


def test_one_spoken_turn_in_the_window(
    qtbot: Any,
    make_window: Any,
    pulse: Any,  # noqa: F811
    speech16k: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    pad = np.zeros(4000, dtype=np.float32)
    question = write_wav(tmp_path / "question.wav", np.concatenate([pad, speech16k(QUESTION), pad]))
    # sampling (seeded) so the random tiny model writes speakable words, as in tests/audio
    window = make_window({"model.device": "cpu", "generation.seed": 7, "generation.temperature": 1.0})
    wait_ready(qtbot, window)
    voice = window.voice
    qtbot.waitUntil(lambda: voice.available, timeout=15_000)
    states: list[str] = []
    voice.state_changed.connect(states.append)

    window.voice_action.trigger()
    assert window.voice_action.isChecked()
    qtbot.waitUntil(lambda: voice.state == "listening", timeout=TURN_TIMEOUT_MS)
    heard = tmp_path / "speaker.wav"
    recorder = pulse.record_speaker(heard)
    try:
        qtbot.wait(1500)  # the sound server's stream start-up
        player = pulse.speak(question)
        qtbot.waitUntil(lambda: player.poll() is not None, timeout=20_000)
        qtbot.waitUntil(lambda: len(window.chat.view.widgets()) == 2, timeout=TURN_TIMEOUT_MS)
        wait_idle(qtbot, window)
        qtbot.waitUntil(
            lambda: voice.state == "listening" and states[-1] == "listening", timeout=TURN_TIMEOUT_MS
        )
        time.sleep(0.5)
        _screenshots(qtbot, window)
    finally:
        window.voice_action.trigger()  # stop listening: frees the devices
        recorder.terminate()
        recorder.wait(5)
    assert not window.voice_action.isChecked() and voice.state == "idle"

    user, reply = window.chat.view.widgets()
    assert (user.role, reply.role) == ("user", "assistant")
    assert user.text == QUESTION and reply.text.strip() and reply.status == "complete"
    spoken = [s for s in states if s not in ("loading", "hearing you")]
    assert spoken[:4] == ["listening", "thinking", "speaking", "listening"]
    messages = stored(window)
    assert [(m.role, m.status) for m in messages] == [("user", "complete"), ("assistant", "complete")]
    assert messages[0].content == QUESTION and messages[0].meta == {"source": "voice"}
    assert messages[1].content == reply.text
    assert window.sidebar.ids() == [window.chat.conversation_id]  # a new conversation, listed
    played = audiofile.load(heard)
    assert np.abs(played).max() > 0.1  # the reply reached the speaker


def _screenshots(qtbot: Any, window: Any) -> None:
    shots = Path(os.environ.get("SEESAY_SHOTS", "/tmp/seesay-shots"))
    shots.mkdir(parents=True, exist_ok=True)
    window.voice.settings_button.setChecked(True)  # show the device row too
    for width, height in ((1280, 800), (800, 600)):
        window.resize(width, height)
        qtbot.wait(200)
        assert window.width() == width  # the voice bar does not widen the window
        assert window.voice.width() <= window.chat.width()
        assert window.voice.mic_button.isVisible() and window.voice.talk_button.isVisible()
        window.grab().save(str(shots / f"voice-{width}x{height}.png"))
    window.voice.settings_button.setChecked(False)
    window.resize(1280, 800)
