"""The small row under each message (alternatives ‹ 2 / 3 ›, Edit, Copy, Read aloud) and the
inline editor a sent prompt opens in.

The row only says what was asked for; the chat page decides what a switch or an edit
does to the conversation, because only it knows whether a reply is streaming and
whether the history can be written.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
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

COPIED_MS = 1500
READ_TEXT, STOP_TEXT = "Read aloud", "■ Stop reading"


def _button(text: str, tip: str, name: str = "messageAction") -> QToolButton:
    button = QToolButton()
    button.setObjectName(name)
    button.setText(text)
    button.setToolTip(tip)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    button.setAutoRaise(True)
    return button


class MessageActions(QWidget):
    """Actions on one message; alternatives appear only where there is more than one."""

    step = Signal(int)  # -1: the previous alternative, +1: the next
    edit_clicked = Signal()
    speak_clicked = Signal()

    def __init__(self, role: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageActions")
        self.role = role
        self.text = ""
        self.previous = _button("‹", "Previous alternative", "branchArrow")
        self.next = _button("›", "Next alternative", "branchArrow")
        self.position = QLabel()
        self.position.setObjectName("branchPosition")
        self.previous.clicked.connect(lambda: self.step.emit(-1))
        self.next.clicked.connect(lambda: self.step.emit(1))
        self.edit_button = _button("Edit", "Change this message and send it again; the earlier one is kept")
        self.edit_button.clicked.connect(self.edit_clicked)
        self.copy_button = _button("Copy", "Copy the message to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.speak_button = _button(READ_TEXT, "Read the message aloud with the voice")
        self.speak_button.clicked.connect(self.speak_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        if role == "user":
            layout.addStretch(1)
        for widget in (self.previous, self.position, self.next):
            layout.addWidget(widget)
        for button in (self.edit_button, self.copy_button, self.speak_button):
            layout.addWidget(button)
        if role != "user":
            layout.addStretch(1)
        self.message_id: int | None = None
        self.alternatives: tuple[int, ...] = ()
        self.branch_id: int | None = None  # the message whose alternatives the arrows move between
        self._busy = False
        self._live = False
        self._editable = False
        self._copied = QTimer(self)
        self._copied.setSingleShot(True)
        self._copied.setInterval(COPIED_MS)
        self._copied.timeout.connect(lambda: self.copy_button.setText("Copy"))
        self._update()

    def set_text(self, text: str) -> None:
        self.text = text
        self._update()

    def set_branch(
        self, message_id: int | None, branch_id: int | None, alternatives: tuple[int, ...], editable: bool
    ) -> None:
        self.message_id, self.branch_id, self.alternatives = message_id, branch_id, alternatives
        self._editable = editable
        self._update()

    @property
    def index(self) -> int:
        """Which alternative is shown, from 0 (-1 when this message has none)."""
        if self.branch_id is None or self.branch_id not in self.alternatives:
            return -1
        return self.alternatives.index(self.branch_id)

    def set_busy(self, busy: bool) -> None:
        """While a reply streams the conversation must not change under it: no edits, no switching."""
        self._busy = busy
        self._update()

    def set_live(self, live: bool) -> None:
        """A reply still being written has nothing to copy or read yet."""
        self._live = live
        self._update()

    def set_speaking(self, speaking: bool) -> None:
        self.speak_button.setText(STOP_TEXT if speaking else READ_TEXT)
        self.speak_button.setToolTip("Stop reading" if speaking else "Read the message aloud with the voice")

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)
        self.copy_button.setText("Copied ✓")
        self._copied.start()

    def _update(self) -> None:
        many = self._editable and len(self.alternatives) > 1 and self.index >= 0
        for widget in (self.previous, self.position, self.next):
            widget.setVisible(many)
        if many:
            self.position.setText(f"{self.index + 1} / {len(self.alternatives)}")
            self.previous.setEnabled(not self._busy and self.index > 0)
            self.next.setEnabled(not self._busy and self.index < len(self.alternatives) - 1)
        has_text = bool(self.text.strip())
        self.copy_button.setVisible(has_text)
        self.speak_button.setVisible(self.role != "user" and has_text)
        self.edit_button.setVisible(self.role == "user" and self._editable and self.message_id is not None)
        self.edit_button.setEnabled(not self._busy)
        visible = not self._live and (many or has_text)
        if visible and self.parentWidget() is None:
            return  # showing a widget without a parent would open it as a window of its own
        self.setVisible(visible)


class EditBox(QPlainTextEdit):
    """Enter sends, Shift+Enter breaks the line, Esc cancels: as in the composer."""

    submitted = Signal()
    cancelled = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not mods & Qt.KeyboardModifier.ShiftModifier:
            event.accept()
            self.submitted.emit()
            return
        if key == Qt.Key.Key_Escape:
            event.accept()
            self.cancelled.emit()
            return
        super().keyPressEvent(event)


class InlineEditor(QFrame):
    """A sent prompt opened for editing in place; Send makes a new branch, Cancel changes nothing."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inlineEditor")
        self.edit = EditBox()
        self.edit.setObjectName("inlineEdit")
        self.edit.setPlainText(text)
        self.edit.submitted.connect(self._submit)
        self.edit.cancelled.connect(self.cancelled)
        lines = max(2, min(8, text.count("\n") + 2))
        self.edit.setFixedHeight(lines * self.edit.fontMetrics().lineSpacing() + 18)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancelled)
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setToolTip("Send the edited message; the earlier one stays as an alternative")
        self.send_button.clicked.connect(self._submit)
        self.edit.textChanged.connect(lambda: self.send_button.setEnabled(bool(self.text().strip())))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        layout.addWidget(self.edit)
        layout.addLayout(buttons)

    def text(self) -> str:
        return self.edit.toPlainText()

    def set_send_enabled(self, enabled: bool) -> None:
        self.send_button.setEnabled(enabled and bool(self.text().strip()))

    def focus(self) -> None:
        self.edit.setFocus(Qt.FocusReason.OtherFocusReason)
        cursor = self.edit.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.edit.setTextCursor(cursor)

    def _submit(self) -> None:
        if self.text().strip() and self.send_button.isEnabled():
            self.submitted.emit(self.text())
