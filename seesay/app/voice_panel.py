"""The voice bar: mic button, push-to-talk, level meter, state, devices, headset and speed.

It sits under the chat so what is said on both sides shows up in the conversation as
it happens; the talking itself runs in :class:`seesay.app.voice_worker.VoiceController`
(threads, models, the engine bridge), and only its Qt signals reach these widgets.
When voice cannot work (no PortAudio, no microphone) the controls are disabled and the
reason is shown in place; text chat is untouched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from seesay.app import theme
from seesay.app.voice_widgets import LevelMeter, MicButton
from seesay.app.voice_worker import VoiceController
from seesay.app.workers import EngineHost
from seesay.chat import ChatSession
from seesay.config import Settings, persist
from seesay.errors import ConfigError, SeeSayError

log = logging.getLogger(__name__)

# state → (label, text colour); the pill behind it is the colour at low opacity
STATES: dict[str, tuple[str, str]] = {
    "idle": ("Voice off", ""),
    "loading": ("Getting ready…", ""),
    "listening": ("Listening", "#2da44e"),
    "push-to-talk": ("Hold Space to talk", "#2da44e"),
    "hearing you": ("Hearing you", "#d4761a"),
    "thinking": ("Thinking…", "#8c5ce6"),
    "speaking": ("Speaking", "accent"),
    "unavailable": ("No voice", "error"),
}
HINTS = {
    "idle": "Click the microphone (Ctrl+Shift+V) for hands-free talk, or hold Space here to talk.",
    "loading": "Loading the speech models; this takes a few seconds the first time.",
    "listening": "Speak, then pause: SeeSay answers aloud.",
    "push-to-talk": "Hold Space (or the button) while you talk, release when done.",
    "hearing you": "Go on — pause when you are done.",
    "thinking": "",
    "speaking": "Talk over it or hold Space to interrupt.",
}
SPEED_STEPS = 100  # slider units per 1.0× speed


class VoicePanel(QFrame):
    """Hands-free and push-to-talk voice over the window's engine and current conversation.

    ``session`` returns the chat's :class:`ChatSession` (the conversation on screen) and
    ``settings`` the window's current settings; both are read when a turn starts, so the
    voice follows conversation switches and Settings changes without being told.
    """

    state_changed = Signal(str)
    level = Signal(float)
    user_said = Signal(str)
    reply_delta = Signal(str)
    reply_finished = Signal()
    error = Signal(str)
    reply_started = Signal(object, str)  # ReplyRequest, prompt: the chat view shows the turn
    listening_changed = Signal(bool)
    settings_changed = Signal(object)  # {"voice.key": value} the user changed here
    collapsed_changed = Signal(bool)
    _devices_scanned = Signal(object)  # (devices, input reason, output reason) from the scan thread

    def __init__(
        self,
        host: EngineHost,
        session: Callable[[], ChatSession],
        settings: Callable[[], Settings],
        parent: QWidget | None = None,
        *,
        persist: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("voicePanel")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._settings_fn = settings
        self._overrides: dict[str, Any] = {}
        self.persist = persist
        self.state = "idle"
        self.unavailable_reason: str | None = "Checking the microphone…"
        self._scanning = False
        self.controller = VoiceController(host, session, self.settings, self)
        self._build()
        self._connect()
        self._set_available(None, initial=True)
        self._show_state("idle")

    # --- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.mic_button = MicButton()
        self.mic_button.setToolTip("Talk hands-free: SeeSay listens until you click again (Ctrl+Shift+V)")
        self.state_label = QLabel()
        self.state_label.setObjectName("voiceState")
        self.hint_label = QLabel()
        self.hint_label.setObjectName("voiceHint")
        self.hint_label.setWordWrap(True)
        self.hint_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.meter = LevelMeter()
        self.talk_button = QPushButton("Hold to talk")
        self.talk_button.setObjectName("talkButton")
        self.talk_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.talk_button.setToolTip("Push-to-talk: hold while you speak (or hold Space here)")
        self.settings_button = QToolButton()
        self.settings_button.setObjectName("voiceSettingsButton")
        self.settings_button.setText("⚙")
        self.settings_button.setCheckable(True)
        self.settings_button.setToolTip("Microphone, speaker, headset mode and speaking speed")
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("voiceRetry")
        self.retry_button.setToolTip("Look for sound devices again (after plugging one in)")
        self.collapse_button = QToolButton()
        self.collapse_button.setObjectName("voiceCollapse")
        self.collapse_button.setCheckable(True)
        self.collapse_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.collapsed = False
        self._retry_wanted = False

        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.mic_button, 0, Qt.AlignmentFlag.AlignVCenter)
        middle = QVBoxLayout()
        middle.setSpacing(4)
        status_row = QHBoxLayout()
        status_row.setSpacing(10)
        status_row.addWidget(self.state_label)
        status_row.addWidget(self.meter, 1, Qt.AlignmentFlag.AlignVCenter)
        middle.addLayout(status_row)
        middle.addWidget(self.hint_label)
        top.addLayout(middle, 1)
        top.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.talk_button, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.collapse_button, 0, Qt.AlignmentFlag.AlignVCenter)

        self.input_combo = self._combo("Microphone to listen to")
        self.output_combo = self._combo("Speaker to answer on")
        self.headset_box = QCheckBox("Headset")
        self.headset_box.setToolTip(
            "Keep listening while SeeSay speaks, so you can talk over it. "
            "Leave off with loudspeakers: their echo would interrupt it."
        )
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setObjectName("speedSlider")
        self.speed_slider.setRange(50, 200)
        self.speed_slider.setSingleStep(5)
        self.speed_slider.setPageStep(25)
        self.speed_slider.setMinimumWidth(50)
        self.speed_slider.setMaximumWidth(140)
        self.speed_slider.setToolTip("Speaking speed")
        self.speed_label = QLabel()
        self.speed_label.setObjectName("voiceHint")
        self.speed_label.setMinimumWidth(34)
        self.device_row = QWidget()
        self.device_row.setObjectName("voiceDevices")
        row = QHBoxLayout(self.device_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        for text, widget in (("Mic", self.input_combo), ("Speaker", self.output_combo)):
            label = QLabel(text)
            label.setObjectName("voiceHint")
            row.addWidget(label)
            row.addWidget(widget, 1)
        row.addSpacing(6)
        row.addWidget(self.headset_box)
        row.addSpacing(6)
        speed = QLabel("Speed")
        speed.setObjectName("voiceHint")
        row.addWidget(speed)
        row.addWidget(self.speed_slider)
        row.addWidget(self.speed_label)
        self.device_row.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.device_row)
        self.set_collapsed(False)

    def set_collapsed(self, collapsed: bool) -> None:
        """A slim bar (the microphone and its state) or the full one with hints, meter and devices."""
        self.collapsed = collapsed
        for widget in (self.hint_label, self.meter, self.settings_button):
            widget.setVisible(not collapsed)
        self.talk_button.setVisible(not collapsed and not self._retry_wanted)
        if collapsed:
            self.device_row.hide()
            self.retry_button.hide()
        else:
            self.device_row.setVisible(self.settings_button.isChecked())
            self.retry_button.setVisible(self._retry_wanted)
        self.mic_button.setFixedSize(*((32, 32) if collapsed else (56, 56)))
        self.layout().setContentsMargins(12, 2 if collapsed else 8, 12, 2 if collapsed else 8)
        self.collapse_button.blockSignals(True)
        self.collapse_button.setChecked(collapsed)
        self.collapse_button.blockSignals(False)
        self.collapse_button.setText("▴" if collapsed else "▾")
        self.collapse_button.setToolTip("Show the voice controls" if collapsed else "Make the voice bar slim")
        self.collapsed_changed.emit(collapsed)

    @staticmethod
    def _combo(tip: str) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip(tip)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(4)
        combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return combo

    def _connect(self) -> None:
        c = self.controller
        c.state_changed.connect(self._on_state)
        c.level.connect(self._on_level)
        c.user_said.connect(self._on_user_said)
        c.error.connect(self._on_error)
        c.reply_delta.connect(self.reply_delta)
        c.reply_finished.connect(self.reply_finished)
        c.reply_started.connect(self.reply_started)
        c.running_changed.connect(self._on_running)
        self.mic_button.clicked.connect(self._on_mic_clicked)
        self.talk_button.pressed.connect(self.press)
        self.talk_button.released.connect(self.release)
        self.settings_button.toggled.connect(self.device_row.setVisible)
        self.collapse_button.toggled.connect(self.set_collapsed)
        self.retry_button.clicked.connect(lambda: self.refresh_devices(rescan=True))
        self.headset_box.toggled.connect(self._on_headset)
        self.speed_slider.valueChanged.connect(self._on_speed_moved)
        self.speed_slider.sliderReleased.connect(self._save_speed)
        self._speed_timer = QTimer(self)
        self._speed_timer.setSingleShot(True)
        self._speed_timer.setInterval(400)
        self._speed_timer.timeout.connect(self._save_speed)
        self.input_combo.activated.connect(lambda _i: self._on_device("voice.input_device", self.input_combo))
        self.output_combo.activated.connect(
            lambda _i: self._on_device("voice.output_device", self.output_combo)
        )
        self._devices_scanned.connect(self._on_devices)

    # --- settings -----------------------------------------------------------------------------
    def settings(self) -> Settings:
        """The window's settings with what was changed here on top (read from any thread)."""
        base = self._settings_fn()
        return base.replace(self._overrides, source="voice panel") if self._overrides else base

    def _change(self, key: str, value: Any) -> None:
        if self.settings().get(key) == value:
            return
        self._overrides[key] = value
        self.settings_changed.emit({key: value})
        if not self.persist:
            return
        try:
            persist({key: value})
        except (OSError, ConfigError) as exc:
            self._on_error(f"The voice setting could not be saved: {exc}")

    def sync_settings(self) -> None:
        """Show the current settings in the controls (after the Settings dialog changed them)."""
        self._overrides = {k: v for k, v in self._overrides.items() if self._settings_fn().get(k) != v}
        v = self.settings().voice
        self.headset_box.blockSignals(True)
        self.headset_box.setChecked(v.headset)
        self.headset_box.blockSignals(False)
        self.speed_slider.blockSignals(True)
        self.speed_slider.setValue(round(v.tts_speed * SPEED_STEPS))
        self.speed_slider.blockSignals(False)
        self.speed_label.setText(f"{v.tts_speed:.2g}×")

    # --- devices ------------------------------------------------------------------------------
    @Slot()
    def refresh_devices(self, rescan: bool = True) -> None:
        """Scan sound devices on a side thread (PortAudio can take a moment), then update.

        ``rescan`` restarts PortAudio so devices plugged in since it started are seen; the
        first look at start-up does not need that.
        """
        if self._scanning:
            return
        self._scanning = True
        self.retry_button.setEnabled(False)
        if not self.controller.running:  # PortAudio restarts during the scan: nothing may open a stream
            self.mic_button.setEnabled(False)
            self.talk_button.setEnabled(False)
        self.hint_label.setText("Looking for a microphone…")
        threading.Thread(
            target=self._scan, args=(self.settings(), rescan), name="seesay-voice-devices", daemon=True
        ).start()

    def _scan(self, settings: Settings, rescan: bool) -> None:
        from seesay.audio import devices

        found: list[Any] = []
        reasons: list[str | None] = [None, None]
        try:
            if rescan and not self.controller.running:  # never under a running loop's streams
                devices.refresh()
            found = devices.list_devices()
            reasons = [
                devices.check_available("input", settings.voice.input_device),
                devices.check_available("output", settings.voice.output_device),
            ]
        except SeeSayError as exc:
            reasons = [str(exc), str(exc)]
        except Exception as exc:  # PortAudio can fail in odd ways; voice is then off, chat is not
            log.exception("scanning sound devices failed")
            reasons = [f"Sound devices cannot be listed: {exc}", None]
        self._devices_scanned.emit((found, reasons[0], reasons[1]))

    @Slot(object)
    def _on_devices(self, result: tuple[list[Any], str | None, str | None]) -> None:
        found, input_reason, output_reason = result
        self._scanning = False
        v = self.settings().voice
        self._fill(self.input_combo, [d for d in found if d.max_input_channels > 0], v.input_device)
        self._fill(self.output_combo, [d for d in found if d.max_output_channels > 0], v.output_device)
        self._set_available(input_reason or output_reason)

    @staticmethod
    def _fill(combo: QComboBox, devices: list[Any], current: str) -> None:
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("System default", "")
        for d in devices:
            combo.addItem(d.name, d.name)
            combo.setItemData(combo.count() - 1, d.label(), Qt.ItemDataRole.ToolTipRole)
        index = combo.findData(current)
        if index < 0 and current:
            combo.addItem(f"{current} (not found)", current)
            index = combo.count() - 1
        combo.setCurrentIndex(max(0, index))
        combo.setEnabled(bool(devices) or combo.count() > 1)
        combo.blockSignals(False)

    def _set_available(self, reason: str | None, initial: bool = False) -> None:
        self.unavailable_reason = "Checking the microphone…" if initial else reason
        ok = reason is None and not initial
        self.mic_button.setEnabled(ok)
        self.talk_button.setEnabled(ok)
        self.meter.setEnabled(ok)
        self._retry_wanted = not ok and not initial
        self.retry_button.setVisible(self._retry_wanted and not self.collapsed)
        self.retry_button.setEnabled(True)
        self.talk_button.setVisible(not self._retry_wanted and not self.collapsed)  # Retry takes its place
        if initial:
            self.hint_label.setText("Looking for a microphone…")
            return
        if not ok:
            self.controller.stop()
            self._show_state("unavailable")
            self.hint_label.setText(str(reason))
            self.hint_label.setToolTip(str(reason))
            if self.input_combo.count() > 1:
                self.device_row.setVisible(True)  # perhaps another microphone works
                self.settings_button.setChecked(True)
        else:
            self.hint_label.setToolTip("")
            self._show_state(self.state if self.state != "unavailable" else "idle")

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None

    # --- listening ----------------------------------------------------------------------------
    @Slot()
    def toggle_listening(self) -> None:
        if self.controller.running and not self._push_to_talk_only():
            self.stop_listening()
        else:
            self.start_listening()

    @Slot()
    def start_listening(self) -> None:
        """Hands-free: listen until stopped. Does nothing (but say why) when voice is unavailable."""
        if not self.available:
            self._show_state("unavailable")
            return
        self.mic_button.setChecked(True)
        self.controller.start(push_to_talk=False)
        self.setFocus(Qt.FocusReason.OtherFocusReason)  # so Space is push-to-talk straight away
        self.listening_changed.emit(True)

    @Slot()
    def stop_listening(self) -> None:
        self.mic_button.setChecked(False)
        self.controller.stop()
        self.meter.set_level(0.0)
        self.mic_button.set_level(0.0)
        self.listening_changed.emit(False)

    def _push_to_talk_only(self) -> bool:
        loop = self.controller.loop
        return loop is not None and loop.push_to_talk

    @Slot()
    def press(self) -> None:
        if self.available:
            self.controller.press()

    @Slot()
    def release(self) -> None:
        self.controller.release()

    @Slot()
    def interrupt(self) -> None:
        self.controller.interrupt()

    @Slot(bool)
    def _on_mic_clicked(self, checked: bool) -> None:
        if checked:
            self.start_listening()
        else:
            self.stop_listening()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self.talk_button.setDown(True)
                self.press()
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self.talk_button.setDown(False)
                self.release()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event: Any) -> None:
        if self.talk_button.isDown():  # a key release we will never see must not hold the mic open
            self.talk_button.setDown(False)
            self.release()
        super().focusOutEvent(event)

    def shutdown(self) -> None:
        """Release the microphone and speaker (the window is closing)."""
        self.controller.stop()

    # --- loop results -------------------------------------------------------------------------
    @Slot(str)
    def _on_state(self, state: str) -> None:
        if state == "idle" and self.controller.starting:
            return
        if state == "idle" and not self.controller.running and self.mic_button.isChecked():
            self.mic_button.setChecked(False)  # it could not start (the error says why)
            self.listening_changed.emit(False)
        self._show_state(state)
        self.state_changed.emit(state)

    def _show_state(self, state: str) -> None:
        self.state = state
        shown = "push-to-talk" if state == "listening" and self._push_to_talk_only() else state
        c = theme.colours()
        text, name = STATES.get(shown, (shown.capitalize(), ""))
        colour = {"": c.muted, "accent": c.accent, "error": c.error}.get(name, name)
        pill = QColor(colour)
        pill.setAlphaF(0.16)
        self.state_label.setText(f"●  {text}")
        self.state_label.setStyleSheet(
            f"QLabel#voiceState {{ color: {colour}; background: {pill.name(QColor.NameFormat.HexArgb)}; "
            "border-radius: 11px; padding: 3px 10px; font-weight: 600; }"
        )
        self.mic_button.colour = QColor(colour if state not in ("idle", "loading") else c.accent)
        self.mic_button.update()
        hint = HINTS.get(shown)
        if shown == "speaking" and not self.settings().voice.headset:
            hint = "Hold Space to interrupt (or turn on Headset to talk over it)."
        if hint and not (state == "idle" and self.hint_label.styleSheet()):  # keep an error in view
            self.hint_label.setText(hint)
            self.hint_label.setStyleSheet("")
        if state == "idle":
            self.meter.set_level(0.0)
            self.mic_button.set_level(0.0)

    @Slot(float)
    def _on_level(self, value: float) -> None:
        self.meter.set_level(value)
        self.mic_button.set_level(self.meter.value)
        self.level.emit(value)

    @Slot(str)
    def _on_user_said(self, text: str) -> None:
        self.hint_label.setText(f"You said: “{text}”")
        self.hint_label.setStyleSheet("")
        self.user_said.emit(text)

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self.hint_label.setText(message)
        self.hint_label.setStyleSheet(f"color: {theme.colours().error};")
        self.error.emit(message)

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        if not running and self.mic_button.isChecked():
            self.mic_button.setChecked(False)
            self.listening_changed.emit(False)

    # --- controls -----------------------------------------------------------------------------
    @Slot(bool)
    def _on_headset(self, on: bool) -> None:
        self.controller.set_headset(on)
        self._change("voice.headset", on)

    @Slot(int)
    def _on_speed_moved(self, value: int) -> None:
        speed = value / SPEED_STEPS
        self.speed_label.setText(f"{speed:.2g}×")
        self.controller.set_speed(speed)
        if not self.speed_slider.isSliderDown():
            self._speed_timer.start()  # keyboard or wheel: save once it settles

    @Slot()
    def _save_speed(self) -> None:
        self._change("voice.tts_speed", self.speed_slider.value() / SPEED_STEPS)

    def _on_device(self, key: str, combo: QComboBox) -> None:
        self._change(key, str(combo.currentData() or ""))
        was_listening = self.controller.running and not self._push_to_talk_only()
        self.controller.stop()
        self.refresh_devices()
        if was_listening:
            self._devices_scanned.connect(self._resume, Qt.ConnectionType.SingleShotConnection)

    @Slot(object)
    def _resume(self, _result: object) -> None:
        if self.available:
            self.start_listening()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.sync_settings()
            self.refresh_devices(rescan=False)

    _shown_once = False
