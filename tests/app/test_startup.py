"""Starting despite problems: broken settings, a missing model, an unusable history folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from seesay.app.main import create_application
from seesay.config import config_path, load_settings
from tests.app.helpers import LOAD_TIMEOUT_MS, type_and_send, wait_idle, wait_ready


def test_application_has_names_and_icon(qtbot: Any) -> None:
    app = create_application()
    assert app.applicationName() == "SeeSay" and app.organizationName() == "SeeSay"
    assert not app.windowIcon().isNull()
    assert not app.windowIcon().pixmap(32, 32).isNull()


def test_malformed_config_opens_with_a_banner(qtbot: Any, make_window: Any) -> None:
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("[generation\ntemperature = hot\n", encoding="utf-8")
    window = make_window()
    assert window.isVisible()
    assert window.banner.isVisibleTo(window)
    assert "not valid TOML" in window.banner.text("config")
    assert window.settings.generation.max_new_tokens == 24  # command-line overrides still apply
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "Still works?")
    wait_idle(qtbot, window)
    assert window.chat.view.widgets()[-1].status == "complete"


def test_bad_model_path_shows_the_error_and_settings_fix_it(
    qtbot: Any, make_window: Any, tiny_model_dir: Path
) -> None:
    window = make_window({"model.name": "/nowhere/at/all"})
    qtbot.waitUntil(lambda: window.host.state == "failed", timeout=LOAD_TIMEOUT_MS)
    assert "does not exist" in window.banner.text("model")
    assert window.status.state.text() == "Model not loaded"
    assert window.chat.composer.isVisible() and window.chat.composer.edit.isEnabled()

    type_and_send(qtbot, window, "Hello?")  # refused, explained, and the text kept
    assert window.chat.composer.text() == "Hello?"
    assert not window.chat.view.widgets()
    assert "Settings" in window.banner.text("model")

    dialog = window.open_settings()
    assert dialog.isVisible()
    device = dialog.fields["model.device"]
    assert isinstance(device, QComboBox)
    device.setCurrentText("gpu")
    dialog.set_value("model.name", str(tiny_model_dir))
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert dialog.isVisible()  # the bad device keeps it open, explained next to the field
    assert dialog.errors["model.device"].isVisibleTo(dialog)
    assert "model.device" in dialog.errors["model.device"].text()
    device.setCurrentText("cpu")
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert not dialog.isVisible()
    saved = load_settings(env={})
    assert saved.model.name == str(tiny_model_dir) and saved.model.device == "cpu"
    assert saved.generation.max_new_tokens != 24  # a command-line flag is not written to the file

    wait_ready(qtbot, window)
    assert window.banner.text("model") == ""
    qtbot.keyClick(window.chat.composer.edit, Qt.Key.Key_Return)  # the kept text goes now
    wait_idle(qtbot, window)
    assert [w.role for w in window.chat.view.widgets()] == ["user", "assistant"]


def test_unusable_history_still_chats_without_saving(qtbot: Any, make_window: Any, seesay_home: Path) -> None:
    (seesay_home / "data").write_text("not a folder", encoding="utf-8")
    window = make_window()
    assert window.store is None
    assert "not saved" in window.banner.text("store")
    assert "unavailable" in window.sidebar.empty.text()
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "One")
    wait_idle(qtbot, window)
    type_and_send(qtbot, window, "Two")
    wait_idle(qtbot, window)
    assert [w.role for w in window.chat.view.widgets()] == ["user", "assistant"] * 2
    assert window.sidebar.titles() == []
