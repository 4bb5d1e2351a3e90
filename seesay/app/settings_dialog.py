"""Settings, generated from ``config.keys()``/``describe()`` so a new setting appears by itself.

Every value is checked with ``Settings.replace`` (the same rules as the file, env and
CLI), and a bad one is explained next to its field; the dialog stays open until all
are valid.
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
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from seesay.config import Settings, describe, keys
from seesay.errors import ConfigError

TAB_TITLES = {
    "model": "Model",
    "generation": "Generation",
    "chat": "Custom instructions",
    "remote": "Remote server",
    "vision": "Vision",
}
LABELS = {
    "model.name": "Model",
    "model.context_tokens": "Context tokens",
    "chat.system_prompt": "Custom instructions",
    "remote.base_url": "Server URL",
    "remote.api_key": "API key",
    "generation.max_new_tokens": "Max reply tokens",
    "generation.top_p": "Top-p",
    "generation.top_k": "Top-k",
    "model.dtype": "Precision",
}
ENGINE_SECTIONS = ("model.", "remote.")


def label_for(key: str) -> str:
    return LABELS.get(key, key.partition(".")[2].replace("_", " ").capitalize())


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
        self.tabs = QTabWidget()
        forms: dict[str, QFormLayout] = {}
        self.sections = list(dict.fromkeys(k.partition(".")[0] for k in keys()))
        for section in self.sections:  # a section added to config later gets its own tab
            title = TAB_TITLES.get(section, section.replace("_", " ").capitalize())
            page = QWidget()
            forms[section] = QFormLayout(page)
            forms[section].setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(page)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            self.tabs.addTab(scroll, title)
        for key in keys():
            forms[key.partition(".")[0]].addRow(label_for(key), self._row(key))
        ok_cancel = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok_cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.resize(620, 520)

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
        if key == "model.name":
            row = QHBoxLayout()
            row.addWidget(field, 1)
            browse = QPushButton("Browse…")
            menu = QMenu(browse)
            menu.addAction("Model folder…", self._browse_folder)
            menu.addAction("GGUF file…", self._browse_file)
            browse.setMenu(menu)
            row.addWidget(browse)
            column.addLayout(row)
        else:
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

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if path:
            self.set_value("model.name", path)

    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", "", "GGUF models (*.gguf)")
        if path:
            self.set_value("model.name", path)

    # --- values -------------------------------------------------------------------------------
    def value(self, key: str) -> Any:
        field = self.fields[key]
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
        if isinstance(field, QCheckBox):
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
            self.tabs.setCurrentIndex(self.sections.index(first_bad.partition(".")[0]))
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
