"""Where the user types: Enter sends, Shift+Enter breaks the line, Send turns into Stop.

The box grows with its text up to a few lines and then scrolls, so a long paste does
not push the conversation off the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QFontMetrics, QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from seesay.app.attachments import local_files

MAX_LINES = 8
PLACEHOLDER = "Message SeeSay…"


class PromptEdit(QPlainTextEdit):
    """A plain text box that turns Enter into a submit and Shift+Enter into a newline."""

    submitted = Signal()
    files_given = Signal(list)  # local files pasted or dropped on the box (list of Path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promptEdit")
        self.setPlaceholderText(PLACEHOLDER)
        self.setToolTip("Enter sends · Shift+Enter adds a line · Ctrl+L comes back here")
        self.setTabChangesFocus(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.document().setDocumentMargin(2)
        self.textChanged.connect(self._grow)
        self._grow()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers()
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")  # not the default U+2028 line separator
                event.accept()
                return
            if not mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
                event.accept()
                self.submitted.emit()
                return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return bool(local_files(source)) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        """A pasted or dropped file is attached, not typed in as its path."""
        files = local_files(source)
        if files:
            self.files_given.emit(files)
            return
        super().insertFromMimeData(source)

    def _grow(self) -> None:
        lines = max(1, min(MAX_LINES, round(self.document().size().height())))
        spacing = QFontMetrics(self.font()).lineSpacing()
        margins = self.contentsMargins()
        frame = 2 * int(self.document().documentMargin()) + margins.top() + margins.bottom()
        self.setFixedHeight(lines * spacing + frame + 6)


class Composer(QFrame):
    """The prompt box with its Regenerate and Send/Stop buttons."""

    send_requested = Signal(str)
    stop_requested = Signal()
    regenerate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composerFrame")
        self.edit = PromptEdit()
        self.edit.submitted.connect(self._on_submit)
        self.regenerate_button = QPushButton("↻ Regenerate")
        self.regenerate_button.setObjectName("regenerateButton")
        self.regenerate_button.setToolTip("Answer the last message again (Ctrl+R)")
        self.regenerate_button.clicked.connect(self.regenerate_requested)
        self.regenerate_button.setEnabled(False)
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.clicked.connect(self._on_button)
        for button in (self.regenerate_button, self.send_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # One row (text, then buttons at its foot) keeps the composer short at 800×600; attached
        # files' chips go above it.
        frame = QVBoxLayout(self)
        frame.setContentsMargins(12, 6, 6, 6)
        frame.setSpacing(4)
        self.above = QVBoxLayout()
        self.above.setContentsMargins(0, 0, 0, 0)
        frame.addLayout(self.above)
        layout = self.row = QHBoxLayout()
        layout.setSpacing(6)
        frame.addLayout(layout)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.regenerate_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.streaming = False
        self.set_streaming(False)

    def set_streaming(self, streaming: bool) -> None:
        """Send becomes Stop while a reply is on its way (or waiting for the model)."""
        self.streaming = streaming
        self.send_button.setText("■ Stop" if streaming else "Send")
        self.send_button.setToolTip("Stop the reply (Esc)" if streaming else "Send the message (Enter)")
        self.send_button.setProperty("streaming", "true" if streaming else "false")
        self.send_button.style().unpolish(self.send_button)
        self.send_button.style().polish(self.send_button)
        self.regenerate_button.setVisible(not streaming)

    def add_parts(self, above: QWidget, buttons: list[QWidget]) -> None:
        """Another feature's parts: a strip above the text, buttons before it (at its foot)."""
        self.above.addWidget(above)
        for index, button in enumerate(buttons):
            self.row.insertWidget(index, button, 0, Qt.AlignmentFlag.AlignBottom)

    def set_can_regenerate(self, enabled: bool) -> None:
        self.regenerate_button.setEnabled(enabled)

    def text(self) -> str:
        return self.edit.toPlainText()

    def set_text(self, text: str) -> None:
        self.edit.setPlainText(text)
        cursor = self.edit.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.edit.setTextCursor(cursor)

    def focus(self) -> None:
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_submit(self) -> None:
        if not self.streaming:
            self._send()

    def _on_button(self) -> None:
        if self.streaming:
            self.stop_requested.emit()
        else:
            self._send()

    def _send(self) -> None:
        text = self.text()
        if not text.strip():
            return  # an empty (or all-whitespace) prompt is not a message
        self.send_requested.emit(text)
