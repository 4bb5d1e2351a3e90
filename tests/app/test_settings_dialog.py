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
    assert dialog.tabs.tabText(dialog.sections.index("chat")) == "Custom instructions"


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
