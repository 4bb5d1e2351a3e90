"""Branches in the real window: edit and resend, regenerate keeping the old answer, the
‹ n / m › arrows, continuing from an older branch, all of it after a restart, search into
a branch not shown, and Copy. Screenshots go to ``$SEESAY_SHOTS`` (default /tmp/seesay-shots)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from seesay.app.main_window import MainWindow
from seesay.app.message_widget import MessageWidget
from tests.app.helpers import stored, type_and_send, wait_idle, wait_ready

SHOTS = Path(os.environ.get("SEESAY_SHOTS", "/tmp/seesay-shots"))
SAMPLING = {"generation.temperature": 1.0, "generation.max_new_tokens": 12}


def _shot(window: MainWindow, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.chat.view.grab().save(str(SHOTS / f"branches-{name}.png"))


def _click(qtbot: Any, button: Any) -> None:
    qtbot.waitUntil(button.isVisible, timeout=2_000)  # widgets added to a layout show on the next pass
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _shown(window: MainWindow) -> list[tuple[str, str]]:
    return [(w.role, w.text) for w in window.chat.view.widgets()]


def _path(window: MainWindow) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in stored(window)]


def _regenerate(qtbot: Any, window: MainWindow) -> None:
    window.regenerate_action.trigger()
    assert window.chat.busy
    wait_idle(qtbot, window)


def _reply(window: MainWindow) -> MessageWidget:
    return window.chat.view.widgets()[-1]


def test_regenerate_keeps_every_answer_and_the_arrows_switch_between_them(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(SAMPLING)
    wait_ready(qtbot, window)
    window.resize(900, 700)
    type_and_send(qtbot, window, "Pick a word")
    wait_idle(qtbot, window)
    assert not _reply(window).action_row.position.isVisible()  # one answer: no arrows
    answers = [stored(window)[-1]]
    for _ in range(2):
        window.regenerate_action.trigger()
        user = window.chat.view.widgets()[0]
        assert window.chat.busy and not user.action_row.edit_button.isEnabled()  # nothing moves mid-reply
        wait_idle(qtbot, window)
        answers.append(stored(window)[-1])
    assert len({a.id for a in answers}) == 3
    reply = _reply(window)
    assert reply.action_row.position.text() == "3 / 3"
    assert reply.action_row.alternatives == tuple(a.id for a in answers)
    assert reply.action_row.previous.isEnabled() and not reply.action_row.next.isEnabled()
    assert window.chat.view.widgets()[0].action_row.edit_button.isEnabled()
    _shot(window, "three-answers")

    _click(qtbot, reply.action_row.previous)
    reply = _reply(window)
    assert reply.action_row.position.text() == "2 / 3"
    assert reply.text == answers[1].content and stored(window)[-1].id == answers[1].id
    _click(qtbot, reply.action_row.previous)
    reply = _reply(window)
    assert reply.action_row.position.text() == "1 / 3" and not reply.action_row.previous.isEnabled()
    assert _path(window) == [("user", "Pick a word"), ("assistant", answers[0].content)]
    assert _shown(window) == _path(window)
    _click(qtbot, reply.action_row.next)
    assert _reply(window).action_row.position.text() == "2 / 3"


def test_edit_and_resend_makes_a_branch_and_keeps_the_old_one(qtbot: Any, make_window: Any) -> None:
    window = make_window(SAMPLING)
    wait_ready(qtbot, window)
    window.resize(900, 700)
    type_and_send(qtbot, window, "First question")
    wait_idle(qtbot, window)
    type_and_send(qtbot, window, "Second question")
    wait_idle(qtbot, window)
    before = _path(window)
    second = window.chat.view.widgets()[2]
    _click(qtbot, second.action_row.edit_button)
    editor = second.editor
    assert editor is not None and editor.text() == "Second question" and not second.bubble.isVisible()
    editor.edit.selectAll()
    qtbot.keyClicks(editor.edit, "Second question, said better")
    qtbot.waitUntil(editor.isVisible, timeout=2_000)
    _shot(window, "editing")
    qtbot.keyClick(editor.edit, Qt.Key.Key_Return)
    assert window.chat.busy
    wait_idle(qtbot, window)
    after = _path(window)
    assert after[:2] == before[:2] and after[2] == ("user", "Second question, said better")
    assert len(after) == 4 and _shown(window) == after
    edited = window.chat.view.widgets()[2]
    assert edited.action_row.position.text() == "2 / 2"
    assert stored(window)[2].meta.get("edited_from") == stored(window)[2].alternatives[0]
    _shot(window, "edited")

    _click(qtbot, edited.action_row.previous)  # the old prompt comes back with its own answer
    assert _path(window) == before and _shown(window) == before
    assert window.chat.view.widgets()[2].action_row.position.text() == "1 / 2"


def test_edit_can_be_cancelled(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "Keep me")
    wait_idle(qtbot, window)
    user = window.chat.view.widgets()[0]
    _click(qtbot, user.action_row.edit_button)
    assert user.editor is not None
    qtbot.keyClicks(user.editor.edit, " changed")
    qtbot.keyClick(user.editor.edit, Qt.Key.Key_Escape)
    assert user.editor is None and user.bubble.isVisible() and user.text == "Keep me"
    assert not window.chat.busy and stored(window)[0].content == "Keep me"
    assert stored(window)[0].alternatives == (stored(window)[0].id,)


def test_continuing_from_an_older_branch_survives_a_restart(qtbot: Any, make_window: Any) -> None:
    window = make_window(SAMPLING)
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "Start here")
    wait_idle(qtbot, window)
    first = stored(window)[-1]
    _regenerate(qtbot, window)
    second = stored(window)[-1]
    _click(qtbot, _reply(window).action_row.previous)
    assert stored(window)[-1].id == first.id
    type_and_send(qtbot, window, "Go on from the first answer")
    wait_idle(qtbot, window)
    path = stored(window)
    assert [m.content for m in path[:3]] == ["Start here", first.content, "Go on from the first answer"]
    assert path[2].parent_id == first.id and len(path) == 4
    widgets = window.chat.view.widgets()
    assert widgets[1].action_row.position.text() == "1 / 2"
    window.close()

    again = make_window(SAMPLING)
    again.sidebar.list.setCurrentRow(0)
    assert _shown(again) == [(m.role, m.content) for m in path]
    reply = again.chat.view.widgets()[1]
    assert reply.action_row.position.text() == "1 / 2" and reply.action_row.next.isEnabled()
    wait_ready(qtbot, again)
    _click(qtbot, reply.action_row.next)  # the other answer had nothing after it
    assert _shown(again) == [("user", "Start here"), ("assistant", second.content)]
    _click(qtbot, again.chat.view.widgets()[1].action_row.previous)  # and the follow-up is back
    assert _shown(again) == [(m.role, m.content) for m in path]
    again.chat.view.widgets()[1].action_row.next.click()
    again.close()

    third = make_window(SAMPLING)  # the branch shown last is the one shown after a restart
    third.sidebar.list.setCurrentRow(0)
    assert _shown(third) == [("user", "Start here"), ("assistant", second.content)]
    wait_ready(qtbot, third)


def test_search_finds_text_in_a_branch_not_shown_and_opens_it(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "Tell me about lighthouses")
    wait_idle(qtbot, window)
    user = window.chat.view.widgets()[0]
    _click(qtbot, user.action_row.edit_button)
    assert user.editor is not None
    user.editor.edit.setPlainText("Tell me about harbours")
    _click(qtbot, user.editor.send_button)
    wait_idle(qtbot, window)
    assert _path(window)[0] == ("user", "Tell me about harbours")
    window.new_chat_action.trigger()
    assert not window.chat.view.widgets()

    window.sidebar.search.setText("lighthouses")
    qtbot.waitUntil(lambda: window.sidebar.titles() == ["Tell me about lighthouses"], timeout=3_000)
    window.sidebar.list.setCurrentRow(0)
    assert _shown(window)[0] == ("user", "Tell me about lighthouses")
    assert window.chat.view.widgets()[0].action_row.position.text() == "1 / 2"
    assert _path(window)[0] == ("user", "Tell me about lighthouses")  # switched in the store too
    _shot(window, "search-hit")

    window.new_chat_action.trigger()
    window.sidebar.search.setText("harbours")  # a hit on the branch shown switches nothing
    window.sidebar.list.setCurrentRow(0)
    assert _shown(window)[0] == ("user", "Tell me about harbours")


def test_copy_puts_the_message_on_the_clipboard(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "Copy *this* prompt")
    wait_idle(qtbot, window)
    user, reply = window.chat.view.widgets()
    clipboard = QGuiApplication.clipboard()
    _click(qtbot, user.action_row.copy_button)
    assert clipboard.text() == "Copy *this* prompt"
    assert user.action_row.copy_button.text().startswith("Copied")
    _click(qtbot, reply.action_row.copy_button)
    assert clipboard.text() == stored(window)[-1].content == reply.text
    qtbot.waitUntil(lambda: user.action_row.copy_button.text() == "Copy", timeout=3_000)
