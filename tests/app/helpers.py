"""Waiting on and driving a real window (shared by the window tests)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from seesay.app.main_window import MainWindow
from seesay.store import StoredMessage

LOAD_TIMEOUT_MS = 60_000
REPLY_TIMEOUT_MS = 30_000


def wait_ready(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.host.state in ("ready", "failed"), timeout=LOAD_TIMEOUT_MS)
    assert window.host.state == "ready", window.host.error


def wait_idle(qtbot: Any, window: MainWindow) -> None:
    """Until the reply in progress is finished and saved."""
    qtbot.waitUntil(lambda: not window.chat.busy and not window.chat.in_flight, timeout=REPLY_TIMEOUT_MS)


def type_and_send(qtbot: Any, window: MainWindow, text: str) -> None:
    edit = window.chat.composer.edit
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def stored(window: MainWindow, conversation_id: int | None = None) -> list[StoredMessage]:
    """What the window's own store holds. (Opening a second store would mark a reply that is
    still streaming as interrupted: that is its crash recovery.)"""
    conversation_id = conversation_id if conversation_id is not None else window.chat.conversation_id
    assert conversation_id is not None and window.store is not None
    return window.store.messages(conversation_id)
