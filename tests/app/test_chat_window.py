"""Chatting through the real window: typing, streaming, stop, regenerate, restart."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt

from tests.app.helpers import stored, type_and_send, wait_idle, wait_ready


def test_typed_message_streams_into_the_window_and_is_saved(qtbot: Any, make_window: Any) -> None:
    window = make_window({"generation.max_new_tokens": 300, "generation.temperature": 0.8})
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "Hello there")
    assert window.chat.composer.text() == ""  # the box empties on send
    assert window.chat.composer.streaming  # Send became Stop
    reply = window.chat.view.widgets()[-1]
    seen_while_streaming: list[str] = []

    def partial_visible() -> bool:
        if window.chat.busy and reply.body.toPlainText().strip():
            seen_while_streaming.append(reply.body.toPlainText())
        return bool(seen_while_streaming)

    qtbot.waitUntil(partial_visible, timeout=20_000)
    wait_idle(qtbot, window)
    final = reply.body.toPlainText()
    assert len(final) > len(seen_while_streaming[0])  # more arrived after the first repaint
    assert reply.status == "complete"
    assert "tok/s" in window.status.speed.text() and "first token" in window.status.speed.text()
    messages = stored(window)
    assert [(m.role, m.status) for m in messages] == [("user", "complete"), ("assistant", "complete")]
    assert messages[0].content == "Hello there"
    assert window.sidebar.titles() == ["Hello there"]


def test_stop_returns_to_idle_at_once_and_keeps_the_partial_reply(qtbot: Any, make_window: Any) -> None:
    window = make_window({"generation.max_new_tokens": 5000, "generation.temperature": 0.9})
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "Tell me a long story")
    reply = window.chat.view.widgets()[-1]
    qtbot.waitUntil(lambda: bool(reply.body.toPlainText().strip()), timeout=20_000)
    assert window.chat.busy
    clicked = time.perf_counter()
    qtbot.mouseClick(window.chat.composer.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.chat.busy, timeout=200)
    assert time.perf_counter() - clicked < 0.2
    assert window.chat.composer.send_button.text() == "Send"
    assert reply.status == "interrupted"
    wait_idle(qtbot, window)  # the engine thread catches up and saves
    messages = stored(window)
    assert messages[-1].status == "interrupted"
    assert messages[-1].content and messages[-1].content == reply.text  # nothing lost or added
    assert window.chat.view.widgets()[-1].status_label.isVisible()


def test_regenerate_replaces_the_last_reply(qtbot: Any, make_window: Any) -> None:
    window = make_window({"generation.temperature": 0.9})
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "Pick a word")
    wait_idle(qtbot, window)
    first = stored(window)[-1]
    assert window.regenerate_action.isEnabled()
    window.regenerate_action.trigger()
    assert window.chat.busy
    wait_idle(qtbot, window)
    messages = stored(window)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[-1].id != first.id and messages[-1].status == "complete"
    assert [w.role for w in window.chat.view.widgets()] == ["user", "assistant"]


def test_shift_enter_inserts_a_newline_and_blank_prompts_are_ignored(qtbot: Any, make_window: Any) -> None:
    window = make_window(start=False)
    window.show()
    edit = window.chat.composer.edit
    qtbot.keyClicks(edit, "first line")
    qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(edit, "second line")
    assert window.chat.composer.text() == "first line\nsecond line"
    assert not window.chat.view.widgets()
    edit.clear()
    qtbot.keyClicks(edit, "   \t ")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.mouseClick(window.chat.composer.send_button, Qt.MouseButton.LeftButton)
    assert not window.chat.view.widgets() and not window.chat.busy


def test_window_is_usable_while_the_model_loads(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    # Right after show, before the event loop ran once: the load is still in progress.
    assert window.isVisible()
    assert window.status.state.text().startswith("Loading model…")
    assert window.status.progress.isVisibleTo(window)
    assert window.chat.view.empty.title.text().startswith("Loading model…")
    assert window.chat.composer.edit.isEnabled()
    type_and_send(qtbot, window, "Are you there?")  # queued behind the load
    assert [w.role for w in window.chat.view.widgets()] == ["user", "assistant"]
    assert window.chat.view.widgets()[-1].status == "waiting"
    wait_ready(qtbot, window)
    wait_idle(qtbot, window)
    assert window.chat.view.widgets()[-1].status == "complete"
    assert window.status.state.text() == "● Ready"
    assert "tiny" in window.status.model.text()


def test_restart_shows_saved_conversations(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "Remember this")
    wait_idle(qtbot, window)
    reply = window.chat.view.widgets()[-1].text
    window.close()
    again = make_window()
    assert again.sidebar.titles() == ["Remember this"]
    again.sidebar.list.setCurrentRow(0)
    widgets = again.chat.view.widgets()
    assert [(w.role, w.text) for w in widgets] == [("user", "Remember this"), ("assistant", reply)]
    assert again.windowTitle().startswith("Remember this")
    wait_ready(qtbot, again)


def test_switching_conversations_while_streaming_keeps_the_partial_reply(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window({"generation.max_new_tokens": 5000, "generation.temperature": 0.9})
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "Go on and on")
    qtbot.waitUntil(lambda: bool(window.chat.view.widgets()[-1].text), timeout=20_000)
    first = window.chat.conversation_id
    window.new_chat_action.trigger()
    assert not window.chat.busy and not window.chat.view.widgets()
    qtbot.waitUntil(lambda: stored(window, first)[-1].status == "interrupted", timeout=5_000)
    assert stored(window, first)[-1].content
    window.sidebar.list.setCurrentRow(0)
    assert window.chat.view.widgets()[-1].status == "interrupted"


def test_huge_paste_is_answered_with_a_trim_notice(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    wait_ready(qtbot, window)
    paste = "All work and no play makes Jack a dull boy. " * 24_000  # ~1 MB
    window.chat.composer.set_text(paste)
    qtbot.keyClick(window.chat.composer.edit, Qt.Key.Key_Return)
    user, reply = window.chat.view.widgets()
    assert "more characters not shown" in user.body.toPlainText()  # drawn shortened, sent whole
    wait_idle(qtbot, window)
    assert reply.trim_label.isVisibleTo(window) and "context window" in reply.trim_label.text()
    assert stored(window)[0].content == paste
    assert "context window" in stored(window)[-1].meta.get("trimmed", "")
