"""Tool calls in the conversation: a collapsible card per call, with the approval buttons.

The reply runs on a worker thread; a call that needs the user's yes blocks that thread in
:class:`Approvals` until the card's buttons answer (or Stop, which is no). Every card shows
the exact call, and where an argument came from content SeeSay read rather than from the
user, it says so: that is what prompt injection looks like from here.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from seesay.tools.approvals import Decision, PendingCall
from seesay.tools.runner import ToolEvent, describe_call

STATE_TEXT = {
    "asking": "waiting for your approval",
    "running": "running…",
    "done": "done",
    "error": "failed",
    "denied": "not run: you declined",
}


@dataclass
class _Question:
    answered: threading.Event = field(default_factory=threading.Event)
    decision: Decision = Decision.DENY


class ToolBridge(QObject):
    """Carries tool events to the UI thread and the user's decisions back to the worker."""

    happened = Signal(object)  # ToolEvent, queued onto the UI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._questions: dict[str, _Question] = {}
        self._lock = threading.Lock()

    def on_event(self, event: ToolEvent) -> None:
        if event.state == "asking":
            with self._lock:
                self._questions.setdefault(event.call_id, _Question())
        self.happened.emit(event)

    def approve(self, call: PendingCall) -> Decision:
        """Called on the worker thread: wait for the card's answer."""
        with self._lock:
            question = self._questions.setdefault(call.call_id, _Question())
        question.answered.wait()
        with self._lock:
            self._questions.pop(call.call_id, None)
        return question.decision

    def answer(self, call_id: str, decision: Decision) -> None:
        with self._lock:
            question = self._questions.get(call_id)
        if question is not None:
            question.decision = decision
            question.answered.set()

    def deny_all(self) -> None:
        """Stop pressed, conversation switched or window closing: every open question is no."""
        with self._lock:
            questions = list(self._questions.values())
        for question in questions:
            question.answered.set()


class ToolCard(QFrame):
    """One call: a header line that folds the result away, and buttons while it waits."""

    decided = Signal(str, object)  # call id, Decision

    def __init__(
        self, call_id: str, name: str, arguments: dict[str, Any], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("toolCard")
        self.call_id, self.name, self.arguments = call_id, name, arguments
        self.state = "running"
        self.toggle = QToolButton()
        self.toggle.setObjectName("toolToggle")
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setCheckable(True)
        self.toggle.toggled.connect(self._fold)
        self.reason = QLabel()
        self.reason.setObjectName("toolReason")
        self.reason.setWordWrap(True)
        self.reason.hide()
        self.body = QPlainTextEdit()
        self.body.setObjectName("toolBody")
        self.body.setReadOnly(True)
        self.body.setMaximumHeight(220)
        self.body.hide()
        self.buttons = QWidget()
        row = QHBoxLayout(self.buttons)
        row.setContentsMargins(0, 0, 0, 0)
        self.approve_button = QPushButton("Approve")
        self.approve_button.setObjectName("primaryButton")
        self.deny_button = QPushButton("Deny")
        self.always_button = QPushButton("Always for this conversation")
        for button, decision in (
            (self.approve_button, Decision.APPROVE),
            (self.deny_button, Decision.DENY),
            (self.always_button, Decision.ALWAYS),
        ):
            button.clicked.connect(lambda _=False, d=decision: self._decide(d))
            row.addWidget(button)
        row.addStretch(1)
        self.buttons.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(4)
        layout.addWidget(self.toggle)
        layout.addWidget(self.reason)
        layout.addWidget(self.body)
        layout.addWidget(self.buttons)
        self._arguments_text = json.dumps(arguments, indent=2, ensure_ascii=False)
        self.result = ""
        self._refresh()

    def update_from(self, event: ToolEvent) -> None:
        self.state = event.state
        if event.result:
            self.result = event.result
        if event.state == "asking":
            lines = [event.reason]
            for path, origin in event.origins.items():
                if origin == "untrusted":
                    lines.append(f"⚠ {path} comes from content SeeSay read, not from you.")
                elif origin == "model":
                    lines.append(f"{path} was written by the assistant.")
            self.reason.setText("\n".join(lines))
            self.toggle.setChecked(True)
        self._refresh()

    def _decide(self, decision: Decision) -> None:
        self.buttons.hide()
        self.reason.hide()
        self.decided.emit(self.call_id, decision)

    def _fold(self, open_: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if open_ else Qt.ArrowType.RightArrow)
        self.body.setVisible(open_)

    def _refresh(self) -> None:
        asking = self.state == "asking"
        self.toggle.setText(
            f"{describe_call(self.name, self.arguments)}  ·  {STATE_TEXT.get(self.state, self.state)}"
        )
        self.setProperty("state", self.state)
        self.style().unpolish(self)
        self.style().polish(self)
        self.buttons.setVisible(asking)
        self.reason.setVisible(asking)
        body = f"Call:\n{self._arguments_text}"
        if self.result:
            body += f"\n\nResult:\n{self.result}"
        self.body.setPlainText(body)

    @classmethod
    def from_stored(cls, meta: dict[str, Any], content: str) -> ToolCard:
        card = cls(
            str(meta.get("tool_call_id", "")),
            str(meta.get("name", "tool")),
            dict(meta.get("arguments") or {}),
        )
        card.state = (
            "denied" if meta.get("approval") == "denied" else "error" if meta.get("is_error") else "done"
        )
        card.result = content
        card._refresh()
        return card
