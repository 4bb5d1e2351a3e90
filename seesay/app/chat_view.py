"""The conversation: a scrolling column of message widgets that follows new text.

The view sticks to the bottom while a reply streams, unless the user has scrolled up to
read something, in which case it stays put until they scroll back down. The column is
capped in width so lines stay readable on a wide window.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from seesay.app.message_widget import MessageWidget
from seesay.app.tool_cards import ToolCard
from seesay.store import StoredMessage

COLUMN_MAX_WIDTH = 860
STICK_MARGIN_PX = 32


def shown(m: StoredMessage) -> bool:
    """Whether a stored message gets a widget (a tool call without words becomes its tool card)."""
    return m.role == "user" or (m.role == "assistant" and bool(m.content or not m.meta.get("tool_calls")))


def branch_points(messages: Iterable[StoredMessage]) -> list[tuple[StoredMessage, StoredMessage | None]]:
    """Each message shown, with the message whose alternatives its arrows switch between.

    A prompt switches between its own edits; a reply between the answers to its prompt,
    which branch at the reply's first message (a tool call, when the model used one), so
    the arrows sit on the first message shown after the prompt.
    """
    points: list[tuple[StoredMessage, StoredMessage | None]] = []
    root: StoredMessage | None = None
    after_prompt = False
    for m in messages:
        if m.role == "user":
            points.append((m, m))
            root, after_prompt = None, True
            continue
        if after_prompt:
            root, after_prompt = m, False
        if shown(m):
            points.append((m, root))
            root = None
    return points


class EmptyState(QWidget):
    """What an empty conversation shows: a greeting, or what the model is doing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 80, 0, 0)
        self.title = QLabel("How can I help?")
        self.title.setObjectName("emptyTitle")
        self.hint = QLabel(
            "Everything stays on this computer. Press Enter to send, Shift+Enter for a new line."
        )
        self.hint.setObjectName("emptyHint")
        self.hint.setWordWrap(True)
        for label in (self.title, self.hint):
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            layout.addWidget(label)


class ChatView(QScrollArea):
    edit_submitted = Signal(object, str)  # the prompt's widget, its new text
    step_requested = Signal(object, int)  # a message's widget, -1 or +1 through its alternatives
    speak_requested = Signal(object)  # a message's widget

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        self.setObjectName("chatScroll")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        canvas = QWidget()
        canvas.setObjectName("chatCanvas")
        self.column = QWidget(canvas)
        self.column.setMaximumWidth(COLUMN_MAX_WIDTH)
        self._messages = QVBoxLayout(self.column)
        self._messages.setContentsMargins(20, 20, 20, 20)
        self._messages.setSpacing(18)
        self.empty = EmptyState()
        self._messages.addWidget(self.empty)
        self._messages.addStretch(1)
        self.column.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        outer = QHBoxLayout(canvas)  # the column takes the width up to its cap, then centres
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addStretch(1)
        outer.addWidget(self.column, 1000)
        outer.addStretch(1)
        self.setWidget(canvas)
        self._stick = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)

    # --- content ------------------------------------------------------------------------------
    def widgets(self) -> list[MessageWidget]:
        found = (self._messages.itemAt(i).widget() for i in range(self._messages.count()))
        return [w for w in found if isinstance(w, MessageWidget)]

    def items(self) -> list[QWidget]:
        """Messages and tool cards, top to bottom."""
        found = (self._messages.itemAt(i).widget() for i in range(self._messages.count()))
        return [w for w in found if isinstance(w, MessageWidget | ToolCard)]

    def clear(self) -> None:
        for widget in self.items():
            self._messages.removeWidget(widget)
            widget.deleteLater()
        self.empty.show()
        self._stick = True

    def show_messages(self, messages: Iterable[StoredMessage], editable: bool = False) -> None:
        """``editable``: the history can be written, so prompts can be edited and alternatives switched."""
        messages = list(messages)
        self.clear()
        for m in messages:
            if m.role == "tool":
                self.add_card(ToolCard.from_stored(m.meta, m.content))
            elif shown(m):
                self.add(m.role, m.content, m.status, m.meta)
        self.set_branches(messages, editable)
        self.scroll_to_bottom()

    def set_branches(self, messages: Iterable[StoredMessage], editable: bool) -> bool:
        """Give the widgets shown their saved ids and alternatives; False when they do not show
        ``messages`` (the caller then shows them anew)."""
        points = branch_points(messages)
        widgets = self.widgets()
        if [(w.role, w.text) for w in widgets] != [(m.role, m.content) for m, _root in points]:
            return False
        for widget, (m, root) in zip(widgets, points, strict=True):
            alternatives = root.alternatives if root is not None else ()
            widget.action_row.set_branch(m.id, root.id if root is not None else None, alternatives, editable)
        return True

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in self.widgets():
            widget.action_row.set_busy(busy)

    def add_card(self, card: ToolCard, before: QWidget | None = None) -> ToolCard:
        """A tool card at the end, or just above ``before`` (the reply it belongs to)."""
        index = self._messages.indexOf(before) if before is not None else -1
        self.empty.hide()
        self._messages.insertWidget(index if index >= 0 else self._messages.count() - 1, card)
        return card

    def cards(self) -> list[ToolCard]:
        return [w for w in self.items() if isinstance(w, ToolCard)]

    def add(
        self, role: str, text: str = "", status: str = "complete", meta: dict[str, Any] | None = None
    ) -> MessageWidget:
        widget = MessageWidget(role, text, status, meta)
        widget.action_row.set_busy(self._busy)
        widget.edit_submitted.connect(lambda prompt, w=widget: self.edit_submitted.emit(w, prompt))
        widget.action_row.step.connect(lambda step, w=widget: self.step_requested.emit(w, step))
        widget.action_row.speak_clicked.connect(lambda w=widget: self.speak_requested.emit(w))
        self.empty.hide()
        self._messages.insertWidget(self._messages.count() - 1, widget)
        return widget

    def remove(self, widget: QWidget) -> None:
        self._messages.removeWidget(widget)
        widget.deleteLater()
        self.empty.setVisible(not self.items())

    def set_empty_text(self, title: str, hint: str) -> None:
        self.empty.title.setText(title)
        self.empty.hint.setText(hint)

    # --- scrolling ----------------------------------------------------------------------------
    def scroll_to_bottom(self) -> None:
        self._stick = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    @property
    def following(self) -> bool:
        """True while new text keeps the view at the bottom."""
        return self._stick

    def _on_scrolled(self, value: int) -> None:
        self._stick = value >= self.verticalScrollBar().maximum() - STICK_MARGIN_PX

    def _on_range(self, _minimum: int, maximum: int) -> None:
        if self._stick:
            self.verticalScrollBar().setValue(maximum)
