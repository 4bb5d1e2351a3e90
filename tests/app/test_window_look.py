"""The window a new user meets: welcome text, dark mode, a 640 px window, the model picker and
Settings, a model that fails to load, and what is remembered between runs.

Screenshots go to ``$SEESAY_SHOTS`` (default /tmp/seesay-shots) for a person to look at; the
tests check what can be checked in them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor

from seesay.app import theme, window_state
from tests.app.helpers import wait_ready


@pytest.fixture
def shots_dir() -> Path:
    path = Path(os.environ.get("SEESAY_SHOTS", "/tmp/seesay-shots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _dark_fraction(image: Any) -> float:
    """Share of a grid of sampled pixels darker than mid grey."""
    img = image.toImage()
    samples = [
        QColor(img.pixel(x, y)).lightness()
        for x in range(0, img.width(), 23)
        for y in range(0, img.height(), 23)
    ]
    return sum(v < 110 for v in samples) / len(samples)


def test_welcome_screen_names_the_model_and_device(qtbot: Any, make_window: Any, shots_dir: Path) -> None:
    window = make_window()
    wait_ready(qtbot, window)
    hint = window.chat.view.empty.hint.text()
    assert "{" not in hint and "}" not in hint
    assert window.host.device in hint and window.host.model_name in hint
    assert window.grab().save(str(shots_dir / "welcome-1280x800.png"))


def test_dark_mode_from_settings_and_back(qtbot: Any, make_window: Any, shots_dir: Path) -> None:
    window = make_window({"appearance.theme": "dark"})
    wait_ready(qtbot, window)
    window.resize(1280, 800)
    qtbot.wait(50)
    dark = window.grab()
    assert dark.save(str(shots_dir / "dark-1280x800.png"))
    assert theme.colours().dark and _dark_fraction(dark) > 0.7
    window._apply_theme("light")
    qtbot.wait(50)
    assert not theme.colours().dark and _dark_fraction(window.grab()) < 0.3


def test_a_640_px_window_fits(qtbot: Any, make_window: Any, shots_dir: Path) -> None:
    window = make_window()
    wait_ready(qtbot, window)
    assert window.minimumSizeHint().width() <= 640
    window.resize(640, 600)
    qtbot.wait(50)
    assert window.width() == 640
    assert window.grab().save(str(shots_dir / "narrow-640x600.png"))
    assert window.chat.composer.isVisible() and window.voice.mic_button.isVisible()
    view = window.chat.view
    assert view.widget().width() <= view.viewport().width()


def test_voice_bar_collapses_and_is_remembered(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    qtbot.wait(20)
    full = window.voice.sizeHint().height()
    window.voice.collapse_button.click()
    qtbot.wait(20)
    assert window.voice.collapsed and window.voice.sizeHint().height() < full * 0.6
    assert not window.voice.hint_label.isVisible()
    window.chat.composer.set_text("half a thought")
    window.resize(700, 520)  # inside the offscreen platform's 800x600 screen, which restoring clamps to
    qtbot.wait(50)
    window.close()
    remembered = window_state.load()
    assert remembered.voice_collapsed and remembered.draft == "half a thought"
    again = make_window()
    assert again.voice.collapsed and again.chat.composer.text() == "half a thought"
    assert again.width() == 700 and again.height() == 520


def test_settings_show_words_and_the_model_picker(qtbot: Any, make_window: Any, shots_dir: Path) -> None:
    window = make_window()
    dialog = window.open_settings()
    dialog.show_page("Model")
    dialog.resize(760, 560)
    picker = dialog.fields["model.name"]
    qtbot.waitUntil(lambda: picker.table.rowCount() >= 2, timeout=10_000)
    qtbot.wait(50)
    assert dialog.grab().save(str(shots_dir / "settings-model-picker.png"))
    assert picker.isVisible()
    titles = [picker.table.item(r, 0).text() for r in range(picker.table.rowCount())]
    assert any("bundled" in t for t in titles) and any("Qwen" in t for t in titles)
    assert all(picker.table.item(r, 2).text().endswith("GB") for r in range(picker.table.rowCount()))
    dialog.show_page("API server")
    qtbot.wait(50)
    assert dialog.grab().save(str(shots_dir / "settings-api-server.png"))
    from PySide6.QtWidgets import QFormLayout, QLabel

    page = dialog.stack.currentWidget().widget()
    form = page.layout()
    assert isinstance(form, QFormLayout)
    labels = [form.itemAt(r, QFormLayout.ItemRole.LabelRole).widget().text() for r in range(form.rowCount())]
    assert "Largest request (MB)" in labels and all("_" not in lab for lab in labels)
    assert all(
        isinstance(form.itemAt(r, QFormLayout.ItemRole.LabelRole).widget(), QLabel)
        for r in range(form.rowCount())
    )
    dialog.reject()


def test_a_model_that_cannot_load_keeps_the_working_one(
    qtbot: Any, make_window: Any, tiny_model_dir: Path, shots_dir: Path
) -> None:
    window = make_window()
    wait_ready(qtbot, window)
    working = window.host.worker.engine
    assert working is not None
    bad = window.settings.replace({"model.name": "/no/such/model"})
    window._apply_settings(bad)
    window.load_model()
    qtbot.waitUntil(
        lambda: window.banner.isVisible() and "keeps using" in window.banner.text(), timeout=30_000
    )
    assert window.host.state == "ready" and window.host.worker.engine is working
    assert window.settings.model.name == str(tiny_model_dir)  # the settings follow the model in use
    window.grab().save(str(shots_dir / "model-kept-1280x800.png"))


def test_rename_updates_the_title_and_a_right_click_opens_nothing(qtbot: Any, make_window: Any) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    window = make_window(start=False)
    store = window.store
    first = store.create_conversation("First")
    store.add_message(first, "user", "one")
    second = store.create_conversation("Second")
    store.add_message(second, "user", "two")
    window.sidebar.refresh()
    window.start()
    window._open(first)
    window.sidebar.set_current(first)
    assert window.windowTitle() == "First — SeeSay"
    # rename the open chat: the title follows
    item = next(
        window.sidebar.list.item(r)
        for r in range(window.sidebar.list.count())
        if window.sidebar.list.item(r).text() == "First"
    )
    item.setText("Renamed")
    qtbot.waitUntil(lambda: window.windowTitle() == "Renamed — SeeSay", timeout=2_000)
    # a right-click on the other chat shows its menu but leaves the open conversation alone
    other = next(
        window.sidebar.list.item(r)
        for r in range(window.sidebar.list.count())
        if window.sidebar.list.item(r).text() == "Second"
    )
    QTimer.singleShot(100, lambda: QApplication.activePopupWidget().close())
    window.sidebar._menu(window.sidebar.list.visualItemRect(other).center())
    assert window.chat.conversation_id == first
    assert [w.text for w in window.chat.view.widgets()] == ["one"]


def test_view_menu_switches_the_theme_and_saves_it(qtbot: Any, make_window: Any) -> None:
    from seesay.config import load_settings

    window = make_window(start=False)
    window.theme_actions["dark"].trigger()
    assert theme.colours().dark and window.theme_actions["dark"].isChecked()
    assert load_settings().appearance.theme == "dark"
    window.theme_actions["light"].trigger()
    assert not theme.colours().dark and not window.theme_actions["dark"].isChecked()
