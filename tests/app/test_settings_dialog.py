"""The settings dialog covers every setting and round-trips values unchanged."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLineEdit, QPlainTextEdit

from seesay.app.settings_dialog import SettingsDialog, needs_reload
from seesay.config import Settings, keys


def test_every_setting_has_a_field_and_values_round_trip(qtbot: Any) -> None:
    settings = Settings().replace(
        {
            "generation.temperature": 0.7,
            "model.threads": 2,
            "chat.system_prompt": "Be brief.\nUse lists.",
            "remote.api_key": "s3cret",
        }
    )
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    assert set(dialog.fields) == set(keys())
    assert dialog.validate() == settings
    api_key = dialog.fields["remote.api_key"]
    assert isinstance(api_key, QLineEdit) and api_key.echoMode() == QLineEdit.EchoMode.Password
    assert isinstance(dialog.fields["chat.system_prompt"], QPlainTextEdit)
    assert [dialog.nav.item(i).text() for i in range(dialog.nav.count())] == [
        "General",
        "Model",
        "Replies",
        "Voice",
        "Sketches",
        "Tools",
        "Documents",
        "API server",
    ]


def test_labels_are_words_not_keys(qtbot: Any) -> None:
    from seesay.app.settings_dialog import label_for

    for key in keys():
        label = label_for(key)
        assert "_" not in label and "." not in label and label[0].isupper(), (key, label)
    assert label_for("server.max_body_mb") == "Largest request (MB)"


def test_devices_and_model_are_chosen_from_lists(qtbot: Any) -> None:
    from PySide6.QtWidgets import QComboBox

    from seesay.app.model_picker import ModelPicker

    dialog = SettingsDialog(Settings().replace({"voice.input_device": "USB headset"}))
    qtbot.addWidget(dialog)
    mic = dialog.fields["voice.input_device"]
    assert isinstance(mic, QComboBox) and mic.itemText(0) == "System default"
    assert dialog.value("voice.input_device") == "USB headset"  # kept though not plugged in now
    mic.setCurrentIndex(0)
    assert dialog.value("voice.input_device") == ""
    picker = dialog.fields["model.name"]
    assert isinstance(picker, ModelPicker)
    qtbot.waitUntil(lambda: picker.table.rowCount() >= 2, timeout=10_000)  # bundled + recommended
    assert "bundled" in picker.table.item(0, 0).text() and picker.value() == ""
    picker.table.selectRow(1)
    assert dialog.value("model.name") == picker._entries[1].name != ""


def test_cancel_keeps_nothing_and_only_engine_changes_reload(qtbot: Any) -> None:
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.set_value("generation.max_new_tokens", 64)
    dialog.reject()
    assert dialog.result_settings is None
    base = Settings()
    assert not needs_reload(base, base.replace({"generation.temperature": 1.0}))
    assert needs_reload(base, base.replace({"model.dtype": "float32"}))
    assert needs_reload(base, base.replace({"remote.base_url": "http://localhost:8000/v1"}))
