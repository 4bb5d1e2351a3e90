"""The conversation list: new chat, search, rename, delete, and the keyboard shortcuts."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox

from tests.app.helpers import type_and_send, wait_idle, wait_ready


@pytest.fixture
def window_with_chats(qtbot: Any, make_window: Any) -> Any:
    """One chat made through the window, one written straight into the (real) store."""
    window = make_window()
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "Plan a picnic")
    wait_idle(qtbot, window)
    other = window.store.create_conversation("Tax questions")
    window.store.add_message(other, "user", "How do deductions for a home office work?")
    window.sidebar.refresh()
    return window


def test_new_chat_search_rename_and_delete(qtbot: Any, window_with_chats: Any, monkeypatch: Any) -> None:
    window = window_with_chats
    sidebar = window.sidebar
    assert sidebar.titles() == ["Tax questions", "Plan a picnic"]  # newest first

    window.new_chat_action.trigger()
    assert window.chat.conversation_id is None and not window.chat.view.widgets()
    assert sidebar.list.currentItem() is None

    qtbot.keyClicks(sidebar.search, "deduct")  # matches a message body, not a title
    qtbot.waitUntil(lambda: sidebar.titles() == ["Tax questions"], timeout=2_000)
    sidebar.search.clear()
    qtbot.waitUntil(lambda: len(sidebar.titles()) == 2, timeout=2_000)
    qtbot.keyClicks(sidebar.search, "zebra")
    qtbot.waitUntil(lambda: sidebar.titles() == [], timeout=2_000)
    assert sidebar.empty.isVisibleTo(sidebar) and "No chats match" in sidebar.empty.text()
    sidebar.search.clear()
    qtbot.waitUntil(lambda: len(sidebar.titles()) == 2, timeout=2_000)

    sidebar.list.setCurrentRow(1)  # opens "Plan a picnic"
    assert [w.role for w in window.chat.view.widgets()] == ["user", "assistant"]
    sidebar.rename_action.trigger()
    editor = sidebar.list.findChild(QLineEdit)
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "Picnic in the park")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Picnic in the park" in sidebar.titles(), timeout=2_000)
    picnic = window.chat.conversation_id
    assert window.store.get_conversation(picnic).title == "Picnic in the park"

    asked: list[str] = []

    def confirm(_parent: Any, _title: str, text: str, *_args: Any) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", confirm)
    sidebar.list.setFocus()
    qtbot.keyClick(sidebar.list, Qt.Key.Key_Delete)
    assert asked and "Picnic in the park" in asked[0]
    assert sidebar.titles() == ["Tax questions"]
    assert window.chat.conversation_id is None and not window.chat.view.widgets()
    assert [c.title for c in window.store.list_conversations()] == ["Tax questions"]


def test_delete_can_be_cancelled(qtbot: Any, window_with_chats: Any, monkeypatch: Any) -> None:
    window = window_with_chats
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Cancel)
    window.sidebar.list.setCurrentRow(0)
    window.sidebar.delete_current()
    assert len(window.store.list_conversations()) == 2


def test_shortcuts_are_wired_and_shown_in_tooltips(qtbot: Any, make_window: Any) -> None:
    window = make_window(start=False)
    window.show()
    expected = {
        window.new_chat_action: "Ctrl+N",
        window.search_action: "Ctrl+F",
        window.composer_action: "Ctrl+L",
        window.regenerate_action: "Ctrl+R",
        window.stop_action: "Esc",
        window.settings_action: "Ctrl+,",
        window.quit_action: "Ctrl+Q",
        window.sidebar.rename_action: "F2",
        window.sidebar.delete_action: "Del",
    }
    for action, keys in expected.items():
        assert action.shortcut().toString() == keys
        assert keys in action.toolTip() or keys == "Del"
    assert "Ctrl+N" in window.sidebar.new_button.toolTip()
    assert (
        "Esc" in window.chat.composer.send_button.toolTip()
        or "Enter" in window.chat.composer.send_button.toolTip()
    )
    window.search_action.trigger()
    assert window.sidebar.search.hasFocus() or window.focusWidget() is window.sidebar.search
    window.composer_action.trigger()
    assert window.focusWidget() is window.chat.composer.edit
    window.sidebar_action.trigger()
    assert not window.sidebar.isVisible()
    window.sidebar_action.trigger()
    assert window.sidebar.isVisible()
