"""Notices across the top of the window: config, history and model problems, shown in place.

Each notice has a key (``"config"``, ``"store"``, ``"model"`` …) so a later event can
replace or clear exactly its own message (a successful reload clears the load error
without hiding an unrelated history warning).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

ICONS = {"error": "⚠", "warning": "⚠", "info": "ℹ"}


class BannerItem(QFrame):
    def __init__(
        self,
        text: str,
        level: str,
        actions: list[tuple[str, Callable[[], None]]],
        on_close: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("bannerItem")
        self.setProperty("level", level)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 8, 8)
        row.setSpacing(10)
        mark = QLabel(ICONS.get(level, "ℹ"))
        mark.setAlignment(Qt.AlignmentFlag.AlignTop)
        row.addWidget(mark)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)
        self.buttons: list[QPushButton] = []
        for title, callback in actions:
            button = QPushButton(title)
            button.clicked.connect(callback)
            row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
            self.buttons.append(button)
        close = QToolButton()
        close.setObjectName("bannerClose")
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.clicked.connect(on_close)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)


class Banner(QWidget):
    """A stack of dismissable notices; hidden when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(12, 8, 12, 0)
        self._layout.setSpacing(6)
        self._items: dict[str, BannerItem] = {}
        self.hide()

    def show_message(
        self,
        key: str,
        text: str,
        level: str = "error",
        actions: list[tuple[str, Callable[[], None]]] | None = None,
    ) -> None:
        self.clear(key)
        item = BannerItem(text, level, actions or [], lambda: self.clear(key), self)
        self._items[key] = item
        self._layout.addWidget(item)
        self.show()

    def clear(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            item.hide()
            item.deleteLater()
        self.setVisible(bool(self._items))

    def text(self, key: str | None = None) -> str:
        """What the user reads (all notices, or one): for tests and accessibility."""
        if key is not None:
            item = self._items.get(key)
            return item.label.text() if item else ""
        return "\n".join(item.label.text() for item in self._items.values())

    def item(self, key: str) -> BannerItem | None:
        return self._items.get(key)
