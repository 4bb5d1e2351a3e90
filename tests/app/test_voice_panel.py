"""The voice bar on its own: states and levels reach the widgets from other threads, Space is
push-to-talk, and without PortAudio or a microphone the controls explain why they are off
while typed chat keeps working."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import Qt

from seesay.app.voice_panel import STATES, VoicePanel
from seesay.app.workers import EngineHost
from seesay.audio import devices
from seesay.audio.devices import NO_PORTAUDIO, Device
from seesay.chat import ChatSession
from seesay.config import Settings
from seesay.errors import AudioError
from tests.app.helpers import stored, type_and_send, wait_idle, wait_ready

SPEAKER = Device(0, "Speaker only", "ALSA", 0, 2, 48000.0, False, True)
MIC = Device(1, "USB mic", "ALSA", 1, 0, 16000.0, True, False)


@pytest.fixture
def panel(qtbot: Any) -> Any:
    host = EngineHost()
    settings = Settings()
    session = ChatSession(None, settings, save=False)  # type: ignore[arg-type]
    widget = VoicePanel(host, lambda: session, lambda: settings, persist=False)
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()
    host.shutdown()


def _sound_system(monkeypatch: pytest.MonkeyPatch, found: list[Device] | None) -> None:
    """The system edge: what PortAudio reports (None: PortAudio is not installed)."""

    def listed() -> list[Device]:
        if found is None:
            raise AudioError(NO_PORTAUDIO)
        return list(found)

    monkeypatch.setattr(devices, "list_devices", listed)
    monkeypatch.setattr(devices, "refresh", lambda: None)


def _scanned(qtbot: Any, panel: VoicePanel) -> None:
    panel.show()
    qtbot.waitUntil(
        lambda: not panel._scanning and panel.unavailable_reason != "Checking the microphone…", timeout=10_000
    )


def test_no_microphone_disables_voice_and_says_why(
    qtbot: Any, panel: VoicePanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sound_system(monkeypatch, [SPEAKER])
    _scanned(qtbot, panel)
    assert not panel.available and "No microphone" in panel.hint_label.text()
    assert not panel.mic_button.isEnabled() and not panel.talk_button.isEnabled()
    assert panel.state_label.text().endswith(STATES["unavailable"][0])
    assert panel.retry_button.isVisible()
    panel.start_listening()  # the shortcut still works: it only repeats the reason
    assert not panel.controller.running and not panel.controller.starting
    # plugging one in and checking again turns voice on
    _sound_system(monkeypatch, [SPEAKER, MIC])
    qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.available, timeout=10_000)
    assert panel.mic_button.isEnabled() and panel.talk_button.isEnabled()
    assert [panel.input_combo.itemText(i) for i in range(panel.input_combo.count())] == [
        "System default",
        "USB mic",
    ]


def test_without_portaudio_the_reason_names_the_library(
    qtbot: Any, panel: VoicePanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sound_system(monkeypatch, None)
    _scanned(qtbot, panel)
    assert "PortAudio" in panel.hint_label.text()
    assert not panel.mic_button.isEnabled()


def test_states_and_levels_from_the_loop_threads_reach_the_widgets(
    qtbot: Any, panel: VoicePanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sound_system(monkeypatch, [SPEAKER, MIC])
    _scanned(qtbot, panel)
    seen: list[str] = []
    panel.state_changed.connect(seen.append)
    controller = panel.controller
    order = ["listening", "hearing you", "thinking", "speaking", "listening"]

    def loop_thread() -> None:  # what VoiceLoop's callbacks do, from its own threads
        for state in order:
            controller.state_changed.emit(state)
        controller.level.emit(0.9)
        controller.user_said.emit("What is the capital of France?")

    thread = threading.Thread(target=loop_thread)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: len(seen) == len(order))
    assert seen == order
    assert panel.state_label.text().endswith("Listening")
    assert STATES["listening"][1] in panel.state_label.styleSheet()
    assert panel.meter.value == pytest.approx(0.9)
    assert "capital of France" in panel.hint_label.text()
    controller.state_changed.emit("speaking")
    assert panel.state_label.text().endswith("Speaking")
    assert "Hold Space" in panel.hint_label.text()  # loudspeakers: the mic is gated while it talks


def test_space_is_push_to_talk_while_the_panel_has_focus(
    qtbot: Any, panel: VoicePanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sound_system(monkeypatch, [SPEAKER, MIC])
    _scanned(qtbot, panel)
    calls: list[str] = []
    monkeypatch.setattr(panel.controller, "press", lambda: calls.append("press"))
    monkeypatch.setattr(panel.controller, "release", lambda: calls.append("release"))
    qtbot.keyPress(panel, Qt.Key.Key_Space)
    assert panel.talk_button.isDown()
    qtbot.keyRelease(panel, Qt.Key.Key_Space)
    qtbot.mouseClick(panel.talk_button, Qt.MouseButton.LeftButton)  # the button does the same
    assert calls == ["press", "release", "press", "release"]


def test_speed_and_headset_are_voice_settings(
    qtbot: Any, panel: VoicePanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sound_system(monkeypatch, [SPEAKER, MIC])
    _scanned(qtbot, panel)
    changes: list[dict] = []
    panel.settings_changed.connect(changes.append)
    panel.headset_box.setChecked(True)
    panel.speed_slider.setValue(150)
    panel._save_speed()
    assert changes == [{"voice.headset": True}, {"voice.tts_speed": 1.5}]
    assert panel.settings().voice.headset and panel.settings().voice.tts_speed == 1.5
    assert panel.speed_label.text() == "1.5×"


def test_typed_chat_works_when_voice_cannot(
    qtbot: Any, make_window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sound_system(monkeypatch, [SPEAKER])
    window = make_window()
    wait_ready(qtbot, window)
    qtbot.waitUntil(
        lambda: not window.voice._scanning and window.voice.unavailable_reason != "Checking the microphone…",
        timeout=10_000,
    )
    assert not window.voice.available and window.voice.hint_label.isVisible()
    window.voice_action.trigger()
    assert not window.voice_action.isChecked()
    type_and_send(qtbot, window, "Hello")
    wait_idle(qtbot, window)
    assert [m.role for m in stored(window)] == ["user", "assistant"]
