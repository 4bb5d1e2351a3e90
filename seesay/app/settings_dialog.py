"""Settings, generated from ``config.keys()``/``describe()`` so a new setting appears by itself.

Pages are listed on the left (a setting from a new section gets a page of its own), each
field has a plain-English label and its help below it; the model is picked from a list
(:mod:`seesay.app.model_picker`) and microphone and speaker from the devices found. Every
value is checked with ``Settings.replace`` (the same rules as the file, env and CLI), and a
bad one is explained next to its field; the dialog stays open until all are valid.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from seesay.app.model_picker import ModelPicker
from seesay.config import Settings, describe, keys
from seesay.errors import ConfigError

WIDE = {"model.name", "chat.system_prompt", "tools.folders", "tools.mcp_servers"}
# Pages, in order, and the sections each shows.
PAGES: list[tuple[str, tuple[str, ...]]] = [
    ("General", ("appearance", "chat")),
    ("Model", ("model", "remote")),
    ("Replies", ("generation",)),
    ("Voice", ("voice",)),
    ("Sketches", ("vision",)),
    ("Tools", ("tools",)),
    ("Documents", ("docs",)),
    ("API server", ("server",)),
]
LABELS = {
    "appearance.theme": "Theme",
    "chat.system_prompt": "Custom instructions",
    "model.name": "Chat model",
    "model.backend": "Runs on",
    "model.device": "Device",
    "model.dtype": "Precision",
    "model.threads": "CPU threads",
    "model.parallel": "Replies at once",
    "model.context_tokens": "Context length (tokens)",
    "remote.base_url": "Remote server URL",
    "remote.api_key": "Remote API key",
    "remote.model": "Remote model name",
    "remote.timeout": "Remote timeout (seconds)",
    "generation.max_new_tokens": "Longest reply (tokens)",
    "generation.temperature": "Temperature",
    "generation.top_p": "Top-p",
    "generation.top_k": "Top-k",
    "generation.repetition_penalty": "Repetition penalty",
    "generation.seed": "Random seed",
    "vision.refine_with_llm": "Polish pages with the chat model",
    "vision.max_image_pixels": "Largest image (pixels)",
    "vision.max_side": "Analysis size (pixels)",
    "vision.vlm_model": "Vision model",
    "vision.vlm_device": "Vision model device",
    "vision.vlm_max_new_tokens": "Longest page from the vision model (tokens)",
    "voice.mode": "Listening mode",
    "voice.headset": "Headset (talk over the reply)",
    "voice.input_device": "Microphone",
    "voice.output_device": "Speaker",
    "voice.stt_backend": "Speech recogniser",
    "voice.stt_model": "Whisper model",
    "voice.stt_device": "Whisper device",
    "voice.language": "Language",
    "voice.word_timestamps": "Time every word",
    "voice.tts_voice": "Voice",
    "voice.tts_speed": "Speaking speed",
    "voice.end_silence_ms": "Pause that ends a turn (ms)",
    "voice.min_speech_ms": "Shortest speech (ms)",
    "voice.vad_threshold": "Speech detection threshold",
    "docs.search_library": "Search my documents",
    "tools.enabled": "Let the assistant use tools",
    "tools.folders": "Granted folders",
    "tools.code": "Run Python code (sandboxed, asks first)",
    "tools.code_cpu_seconds": "Code CPU limit (seconds)",
    "tools.code_memory_mb": "Code memory limit (MB)",
    "tools.mcp_servers": "MCP servers file",
    "tools.max_rounds": "Tool calls before answering",
    "server.host": "Listen on address",
    "server.port": "Port",
    "server.api_key_file": "API key file",
    "server.require_key_on_loopback": "Require the key on this computer too",
    "server.max_body_mb": "Largest request (MB)",
    "server.queue_size": "Waiting requests before “busy”",
    "server.cors_origins": "Browser origins allowed (CORS)",
}
ENGINE_SECTIONS = ("model.", "remote.")


def label_for(key: str) -> str:
    return LABELS.get(key, key.partition(".")[2].replace("_", " ").capitalize())


def pages() -> list[tuple[str, list[str]]]:
    """(title, keys) for each page; sections no page names get a page of their own."""
    sections = list(dict.fromkeys(k.partition(".")[0] for k in keys()))
    named = {s for _, group in PAGES for s in group}
    layout = [*PAGES, *((s.replace("_", " ").capitalize(), (s,)) for s in sections if s not in named)]
    return [(title, [k for k in keys() if k.partition(".")[0] in group]) for title, group in layout]


def needs_reload(old: Settings, new: Settings) -> bool:
    """Model or server settings changed: the engine must be created and loaded again."""
    return any(old.get(k) != new.get(k) for k in keys() if k.startswith(ENGINE_SECTIONS))


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self.settings = settings
        self.result_settings: Settings | None = None
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.page_of: dict[str, int] = {}
        self.nav = QListWidget()
        self.nav.setObjectName("settingsNav")
        self.nav.setFixedWidth(140)
        self.stack = QStackedWidget()
        for index, (title, page_keys) in enumerate(pages()):
            page = QWidget()
            form = QFormLayout(page)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            for key in page_keys:
                if key in WIDE:  # a list or a text box: the whole width, its label above
                    form.addRow(QLabel(label_for(key)))
                    form.addRow(self._row(key))
                else:
                    form.addRow(label_for(key), self._row(key))
                self.page_of[key] = index
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(page)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            self.stack.addWidget(scroll)
            self.nav.addItem(title)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)
        ok_cancel = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok_cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        body = QHBoxLayout()
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)
        self.resize(760, 560)

    def show_page(self, title: str) -> None:
        for row in range(self.nav.count()):
            if self.nav.item(row).text() == title:
                self.nav.setCurrentRow(row)

    # --- building -----------------------------------------------------------------------------
    def _row(self, key: str) -> QWidget:
        info = describe(key)
        field = self._editor(key, info)
        field.setToolTip(info["help"])
        self.fields[key] = field
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 6)
        column.setSpacing(2)
        column.addWidget(field)
        help_label = QLabel(info["help"])
        help_label.setObjectName("fieldHelp")
        help_label.setWordWrap(True)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        self.errors[key] = error
        column.addWidget(error)
        column.addWidget(help_label)
        return box

    def _editor(self, key: str, info: dict[str, Any]) -> QWidget:
        value = self.settings.get(key)
        if key == "model.name":
            return ModelPicker(str(value))
        if key in ("voice.input_device", "voice.output_device"):
            return _device_combo("input" if key == "voice.input_device" else "output", str(value))
        kind = info["type"] if isinstance(info["type"], str) else info["type"].__name__
        spec_lo, spec_hi = _bounds(key)
        if info["choices"]:
            combo = QComboBox()
            combo.addItems([c for c in info["choices"] if not c.endswith(":N")])
            combo.setEditable(any(c.endswith(":N") for c in info["choices"]))
            combo.setCurrentText(str(value))
            return combo
        if kind == "bool":
            check = QCheckBox()
            check.setChecked(bool(value))
            return check
        if kind == "int":
            spin = QSpinBox()
            spin.setRange(int(spec_lo), int(min(spec_hi, 2**31 - 1)))
            spin.setValue(int(value))
            if key == "model.threads":
                spin.setSpecialValueText("Automatic")
            if key == "generation.seed":
                spin.setSpecialValueText("Random")
            return spin
        if kind == "float":
            dspin = QDoubleSpinBox()
            dspin.setDecimals(2)
            dspin.setRange(spec_lo, spec_hi)
            dspin.setSingleStep(0.05 if spec_hi <= 2 else 1.0)
            dspin.setValue(float(value))
            return dspin
        if key == "chat.system_prompt":
            text = QPlainTextEdit(str(value))
            text.setMinimumHeight(160)
            text.setTabChangesFocus(True)
            return text
        line = QLineEdit(str(value))
        if key == "remote.api_key":
            line.setEchoMode(QLineEdit.EchoMode.Password)
        if key == "model.name":
            line.setPlaceholderText("Bundled SmolLM2-135M-Instruct")
        if key == "remote.base_url":
            line.setPlaceholderText("Empty: run on this computer")
        return line

    # --- values -------------------------------------------------------------------------------
    def value(self, key: str) -> Any:
        field = self.fields[key]
        if isinstance(field, ModelPicker):
            return field.value()
        if isinstance(field, QComboBox) and field.property("devices"):
            return (
                ""
                if field.currentIndex() == 0 and field.currentText() == SYSTEM_DEFAULT
                else (field.currentData() or field.currentText().strip())
            )
        if isinstance(field, QCheckBox):
            return field.isChecked()
        if isinstance(field, QComboBox):
            return field.currentText().strip()
        if isinstance(field, (QSpinBox, QDoubleSpinBox)):
            return field.value()
        if isinstance(field, QPlainTextEdit):
            return field.toPlainText()
        assert isinstance(field, QLineEdit)
        return field.text().strip() if key != "remote.api_key" else field.text()

    def set_value(self, key: str, value: Any) -> None:
        field = self.fields[key]
        if isinstance(field, ModelPicker):
            field.set_value(str(value))
        elif isinstance(field, QCheckBox):
            field.setChecked(bool(value))
        elif isinstance(field, QComboBox):
            field.setCurrentText(str(value))
        elif isinstance(field, (QSpinBox, QDoubleSpinBox)):
            field.setValue(value)
        elif isinstance(field, QPlainTextEdit):
            field.setPlainText(str(value))
        elif isinstance(field, QLineEdit):
            field.setText(str(value))

    def validate(self) -> Settings | None:
        """The new settings, or None after showing each bad value next to its field."""
        result, first_bad = self.settings, None
        for key in keys():
            error = self.errors[key]
            try:
                result = result.replace({key: self.value(key)}, source="")
            except ConfigError as exc:
                error.setText(str(exc))
                error.show()
                first_bad = first_bad or key
            else:
                error.hide()
        if first_bad is not None:
            self.nav.setCurrentRow(self.page_of[first_bad])
            self.fields[first_bad].setFocus(Qt.FocusReason.OtherFocusReason)
            return None
        return result

    def accept(self) -> None:
        result = self.validate()
        if result is not None:
            self.result_settings = result
            super().accept()


def _bounds(key: str) -> tuple[float, float]:
    import dataclasses

    from seesay import config

    section, name = key.split(".")
    for f in dataclasses.fields(config._SECTIONS[section]):
        if f.name == name:
            lo, hi = f.metadata["lo"], f.metadata["hi"]
            return (lo if lo is not None else 0.0), (hi if hi is not None else 1e9)
    return 0.0, 1e9


SYSTEM_DEFAULT = "System default"


def _device_combo(kind: str, current: str) -> QComboBox:
    """Microphones or speakers found now, "System default" first; typing a name still works
    (a device that is unplugged at the moment)."""
    combo = QComboBox()
    combo.setProperty("devices", True)
    combo.setEditable(True)
    combo.addItem(SYSTEM_DEFAULT, "")
    try:
        from seesay.audio import devices

        for d in devices.list_devices():
            if (d.max_input_channels if kind == "input" else d.max_output_channels) > 0:
                combo.addItem(d.name, d.name)
    except Exception:  # no PortAudio or no sound system: the default (and typing) remain
        pass
    if current and combo.findData(current) < 0:
        combo.addItem(current, current)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo
