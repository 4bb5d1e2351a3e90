"""One message in the chat: a user bubble (plain text) or a full-width reply (Markdown).

Each message is its own small QTextBrowser sized to its document, so a streaming reply
re-renders only itself and the rest of the conversation is never laid out again.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontMetrics, QGuiApplication, QWheelEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from seesay.app import markdown
from seesay.app.message_actions import InlineEditor, MessageActions
from seesay.app.sources import SourceList, link_markers, sources_from

log = logging.getLogger(__name__)

STATUS_TEXT = {
    "waiting": "Waiting for the model to finish loading…",
    "streaming": "",
    "interrupted": "■ Stopped — the reply was interrupted.",
    "error": "⚠ The reply failed.",
}


class RichText(QTextBrowser):
    """A borderless, scroll-less text browser whose height follows its content."""

    copied = Signal(int)
    source_clicked = Signal(int)  # N of a "[N]" citation link

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setOpenLinks(False)
        self.setMinimumWidth(40)
        self.viewport().setAutoFillBackground(False)
        self.setObjectName("richText")  # transparent background: see theme.stylesheet
        self.document().setDocumentMargin(0)
        self.document().setDefaultStyleSheet(markdown.DOCUMENT_CSS)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self.anchorClicked.connect(self._on_anchor)
        self.code_blocks: tuple[str, ...] = ()
        self.source_numbers: tuple[int, ...] = ()  # sources whose "[N]" markers become links
        self.natural_width = 0
        self.setFixedHeight(self._line_height())

    def set_markdown(self, text: str) -> None:
        rendered = markdown.render(text)
        self.code_blocks = rendered.code_blocks
        if self.source_numbers:
            self.setHtml(link_markers(rendered.html, self.source_numbers))
        else:
            self.setHtml(rendered.html)

    def set_plain(self, text: str) -> None:
        self.code_blocks = ()
        self.setHtml(markdown.render_plain(text))
        metrics = QFontMetrics(self.font())
        lines = text[:20_000].splitlines()[:400] or [""]
        self.natural_width = max(metrics.horizontalAdvance(line) for line in lines) + 4
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        return QSize(self.natural_width or super().sizeHint().width(), self.height())

    def wheelEvent(self, event: QWheelEvent) -> None:
        event.ignore()  # the conversation scrolls, not each message

    def _line_height(self) -> int:
        return QFontMetrics(self.font()).lineSpacing() + 2

    def _fit(self) -> None:
        height = max(self._line_height(), math.ceil(self.document().size().height()) + 2)
        if height != self.height():
            self.setFixedHeight(height)

    def _on_anchor(self, url: QUrl) -> None:
        index = markdown.copy_index(url.toString())
        if index is not None:
            if index < len(self.code_blocks):
                QGuiApplication.clipboard().setText(self.code_blocks[index])
                QToolTip.showText(self.mapToGlobal(self.rect().center()), "Copied to the clipboard", self)
                self.copied.emit(index)
            return
        if url.scheme() == "source" and url.path().isdigit():
            self.source_clicked.emit(int(url.path()))
        elif url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
        else:
            log.info("ignored a link with scheme %r", url.scheme())


class MessageWidget(QWidget):
    """A message plus its status, trim notice and stats line."""

    BUBBLE_SHARE = 0.78
    edit_submitted = Signal(str)  # the prompt, changed in the inline editor, to send as a new branch

    def __init__(
        self,
        role: str,
        text: str = "",
        status: str = "complete",
        meta: dict[str, Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.role = role
        self.text = text
        self.status = status
        self.body = RichText()
        self.attached: QWidget | None = None  # files sent with a user message
        self.sources: SourceList | None = None  # passages a reply was given
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        self.trim_label = self._label("trimNotice")
        self.status_label = self._label("messageStatus")
        self.error_label = self._label("messageError")
        self.meta_label = self._label("messageMeta")
        self.action_row = MessageActions(role, self)
        self.action_row.edit_clicked.connect(self.begin_edit)
        self.editor: InlineEditor | None = None
        if role == "user":
            self.bubble = QFrame()
            self.bubble.setObjectName("userBubble")
            inner = QVBoxLayout(self.bubble)
            inner.setContentsMargins(14, 10, 14, 10)
            inner.addWidget(self.body)
            self.body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            row = QHBoxLayout()
            row.setContentsMargins(0, 0, 0, 0)
            row.addStretch(1)
            row.addWidget(self.bubble)
            outer.addLayout(row)
            outer.addWidget(self.trim_label, 0, Qt.AlignmentFlag.AlignRight)
            outer.addWidget(self.action_row)
        else:
            self.bubble = None
            role_label = QLabel("SeeSay")
            role_label.setObjectName("messageRole")
            outer.addWidget(role_label)
            outer.addWidget(self.body)
            for label in (self.trim_label, self.status_label, self.error_label, self.meta_label):
                outer.addWidget(label)
            outer.addWidget(self.action_row)
        self.set_text(text)
        self.set_status(status, (meta or {}).get("error", ""))
        if meta:
            self.set_meta(meta)

    @staticmethod
    def _label(name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.hide()
        return label

    def set_text(self, text: str) -> None:
        self.text = text
        self.action_row.set_text(text)
        if self.role == "user":
            self.body.set_plain(text)
        else:
            self.body.set_markdown(text)
            self._show_typing()

    def set_status(self, status: str, error: str = "") -> None:
        self.status = status
        self.action_row.set_live(status in ("streaming", "waiting"))
        note = STATUS_TEXT.get(status, "")
        self.status_label.setText(note)
        self.status_label.setVisible(bool(note) and status != "error")
        self.error_label.setText(f"⚠ {error}" if error else STATUS_TEXT["error"])
        self.error_label.setVisible(status == "error")
        self._show_typing()

    def set_trim(self, notice: str) -> None:
        self.trim_label.setText(f"ℹ {notice}" if notice else "")
        self.trim_label.setVisible(bool(notice))

    def set_meta(self, meta: dict[str, Any]) -> None:
        """Model, length and speed under a reply; works with stored meta and live stats."""
        if self.role == "user":
            self._show_attachments(meta)
            return
        self._show_sources(meta)
        if meta.get("trimmed") or meta.get("trim"):
            self.set_trim(meta.get("trimmed") or meta.get("trim", ""))
        parts = [str(meta["model"])] if meta.get("model") else []
        if meta.get("tokens"):
            parts.append(f"{meta['tokens']} tokens")
        speed = meta.get("tokens_per_s")
        if speed:
            parts.append(f"{speed:.1f} tok/s")
        self.meta_label.setText(" · ".join(parts))
        self.meta_label.setVisible(bool(parts))

    def _show_attachments(self, meta: dict[str, Any]) -> None:
        if meta.get("attachments") and self.attached is None:
            from seesay.app.attachments import AttachedList

            self.attached = AttachedList(meta)
            self.layout().insertWidget(1, self.attached)  # under the bubble
            self.attached.show()

    def _show_sources(self, meta: dict[str, Any]) -> None:
        found = sources_from(meta)
        if not found or self.sources is not None:
            return
        self.sources = SourceList(found)
        layout = self.layout()
        layout.insertWidget(layout.indexOf(self.body) + 1, self.sources)
        self.sources.show()
        self.body.source_numbers = tuple(s.n for s in found)
        self.body.source_clicked.connect(self.sources.open_source)
        self.body.set_markdown(self.text)

    def begin_edit(self) -> None:
        """Open the prompt in place (the bubble steps aside); Send emits :attr:`edit_submitted`."""
        if self.editor is not None or self.bubble is None:
            return
        self.editor = InlineEditor(self.text)
        self.editor.submitted.connect(self.edit_submitted)
        self.editor.cancelled.connect(self.end_edit)
        self.bubble.hide()
        self.action_row.hide()
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(0, self.editor)
        self.editor.focus()

    def end_edit(self) -> None:
        if self.editor is None or self.bubble is None:
            return
        self.editor.deleteLater()
        self.editor = None
        self.bubble.show()
        self.action_row.set_text(self.text)  # shows the row again

    def _show_typing(self) -> None:
        """An empty reply still in progress shows a pulse instead of a blank gap."""
        if self.role == "user":
            return
        waiting = not self.text and self.status in ("streaming", "waiting")
        if waiting and self.status == "streaming":
            self.status_label.setText("Thinking…")
            self.status_label.setVisible(True)
        elif self.status == "streaming":
            self.status_label.setVisible(False)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.bubble is not None:
            limit = max(120, int(self.width() * self.BUBBLE_SHARE))
            if self.bubble.maximumWidth() != limit:
                self.bubble.setMaximumWidth(limit)
                QTimer.singleShot(0, self.body._fit)
