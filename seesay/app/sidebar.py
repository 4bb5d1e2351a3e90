"""The conversation list: New chat, full-text search, rename in place, delete with confirmation.

Search runs on the store's FTS index (titles and messages) after a short pause in
typing, so each keystroke does not hit the database. The list is rebuilt from the store
after every change rather than patched, so it can never drift from what is saved.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from seesay.app import theme
from seesay.errors import StoreError
from seesay.store import HistoryStore

log = logging.getLogger(__name__)

ID_ROLE = Qt.ItemDataRole.UserRole
UPDATED_ROLE = Qt.ItemDataRole.UserRole + 1
SEARCH_DEBOUNCE_MS = 200


def when(timestamp: float, now: float | None = None) -> str:
    """Short, human date for the list: time today, weekday this week, else day and month."""
    now = now or time.time()
    then, today = time.localtime(timestamp), time.localtime(now)
    if then[:3] == today[:3]:
        return time.strftime("%H:%M", then)
    if now - timestamp < 6 * 86400:
        return time.strftime("%a", then)
    return time.strftime("%d %b", then).lstrip("0")


class ConversationDelegate(QStyledItemDelegate):
    """Title on the left, date on the right, soft rounded highlight."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(option.rect.width(), option.fontMetrics.height() + 18)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(6, 2, -6, -2)
        state = option.state
        c = theme.colours()
        if state & QStyle.StateFlag.State_Selected:
            painter.setBrush(QColor(c.selected))
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.setBrush(QColor(c.hover))
        else:
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(rect, 7, 7)
        stamp = when(float(index.data(UPDATED_ROLE) or 0))
        small = QFont(option.font)
        small.setPointSizeF(max(7.5, option.font.pointSizeF() - 1.5))
        painter.setFont(small)
        date_width = painter.fontMetrics().horizontalAdvance(stamp) + 4
        text_rect = rect.adjusted(10, 0, -10, 0)
        painter.setPen(QColor(c.muted))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, stamp)
        painter.setFont(option.font)
        painter.setPen(QColor(c.text))
        title_rect = QRect(
            text_rect.left(), text_rect.top(), text_rect.width() - date_width - 8, text_rect.height()
        )
        title = painter.fontMetrics().elidedText(
            str(index.data() or ""), Qt.TextElideMode.ElideRight, title_rect.width()
        )
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, title)
        painter.restore()


class Sidebar(QWidget):
    conversation_selected = Signal(int)
    new_chat_requested = Signal()
    conversation_deleted = Signal(int)
    conversation_renamed = Signal(int)
    notice = Signal(str, str, str)

    def __init__(self, store: HistoryStore | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.store = store
        self.new_button = QPushButton("+  New chat")
        self.new_button.setObjectName("newChatButton")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_chat_requested)
        self.search = QLineEdit()
        self.search.setObjectName("searchField")
        self.search.setPlaceholderText("Search chats")
        self.search.setToolTip("Search titles and messages (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.list = QListWidget()
        self.list.setObjectName("conversationList")
        self.list.setItemDelegate(ConversationDelegate(self.list))
        self.list.setMouseTracking(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemChanged.connect(self._on_edited)
        self.rename_action = QAction("Rename", self.list)
        self.rename_action.setShortcut("F2")
        self.rename_action.setToolTip("Rename the selected chat (F2)")
        self.rename_action.triggered.connect(self.rename_current)
        self.delete_action = QAction("Delete…", self.list)
        self.delete_action.setShortcut("Delete")
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.delete_action.setToolTip("Delete the selected chat (Delete)")
        self.delete_action.triggered.connect(self.delete_current)
        self.list.addAction(self.delete_action)
        self.empty = QLabel()
        self.empty.setObjectName("emptyHint")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 12, 10, 10)
        layout.setSpacing(8)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        self._current_id: int | None = None
        self._updating = False
        if store is None:
            self.search.setEnabled(False)
        self.refresh()

    # --- list ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild from the store (newest first), keeping the current chat selected."""
        self._updating = True
        try:
            self.list.clear()
            conversations = []
            if self.store is not None:
                try:
                    conversations = self.store.list_conversations(self.search.text())
                except StoreError as exc:
                    self.notice.emit("store", str(exc), "error")
            for c in conversations:
                item = QListWidgetItem(c.title)
                item.setData(ID_ROLE, c.id)
                item.setData(UPDATED_ROLE, c.updated_at)
                item.setToolTip(c.title)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.list.addItem(item)
                if c.id == self._current_id:
                    self.list.setCurrentItem(item)
        finally:
            self._updating = False
        if self.store is None:
            self.empty.setText("History is unavailable, so chats in this window are not saved.")
        elif self.search.text().strip():
            self.empty.setText("No chats match your search." if not conversations else "")
        else:
            self.empty.setText("No chats yet." if not conversations else "")
        self.empty.setVisible(bool(self.empty.text()))

    def set_current(self, conversation_id: int | None) -> None:
        self._current_id = conversation_id
        self._updating = True
        try:
            self.list.setCurrentItem(None)
            for row in range(self.list.count()):
                item = self.list.item(row)
                if item.data(ID_ROLE) == conversation_id:
                    self.list.setCurrentItem(item)
                    break
        finally:
            self._updating = False

    def ids(self) -> list[int]:
        return [int(self.list.item(row).data(ID_ROLE)) for row in range(self.list.count())]

    def titles(self) -> list[str]:
        return [self.list.item(row).text() for row in range(self.list.count())]

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    # --- actions ------------------------------------------------------------------------------
    def rename_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def delete_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._delete(item)

    def _delete(self, item: QListWidgetItem) -> None:
        if self.store is None:
            return
        conversation_id = int(item.data(ID_ROLE))
        answer = QMessageBox.question(
            self,
            "Delete chat",
            f"Delete “{item.text()}” and all its messages?\nThis cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.store.delete_conversation(conversation_id)
        except StoreError as exc:
            self.notice.emit("store", str(exc), "error")
            return
        self.conversation_deleted.emit(conversation_id)
        self.refresh()

    def _on_current(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if self._updating or current is None:
            return
        conversation_id = int(current.data(ID_ROLE))
        if conversation_id != self._current_id:
            self._current_id = conversation_id
            self.conversation_selected.emit(conversation_id)

    def _on_edited(self, item: QListWidgetItem) -> None:
        if self._updating or self.store is None:
            return
        conversation_id = int(item.data(ID_ROLE))
        try:
            self.store.rename_conversation(conversation_id, item.text())
        except StoreError as exc:
            self.notice.emit("store", str(exc), "warning")
        else:
            self.conversation_renamed.emit(conversation_id)
        QTimer.singleShot(0, self.refresh)  # not from inside the edit's own signal

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        # The menu acts on the chat under the pointer without opening it: opening it here would
        # switch the conversation behind the menu while the menu is still up.
        menu = QMenu(self)
        menu.addAction("Rename").triggered.connect(lambda: self.list.editItem(item))
        menu.addAction("Delete…").triggered.connect(lambda: self._delete(item))
        menu.exec(self.list.viewport().mapToGlobal(pos))
        menu.deleteLater()  # one menu per right-click; do not let them pile up as children
