"""Files attached to the next message: a chip per file above the prompt box.

Reading a file (a 200-page PDF is converted, cut into passages and embedded) takes seconds,
so each file is read on the thread pool while its chip says so, and the message cannot go
until every chip is ready: a message sent without the file the user attached would be
answered as if they had not. A file that cannot be read keeps its chip, with the reason,
until the user removes it or sends; nothing else in the window is affected.
"""

from __future__ import annotations

import base64
import html
import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QMimeData, QSize, Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from seesay.app.workers import BackgroundTask
from seesay.docs.convert import KINDS, SUPPORTED, Cancelled
from seesay.docs.grounding import Attachment, attach
from seesay.docs.library import Library

log = logging.getLogger(__name__)

# Files being read, kept (with the signals they report on) until they report, even when the
# chip or the whole window has gone in the meantime.
_in_flight: set[BackgroundTask] = set()

# Line icons drawn here rather than emoji, which many desktops' fonts lack.
PAPERCLIP = (
    "M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l8.6-8.6a4 4 0 1 1 5.7 5.7l-8.6 8.6a2 2 0 0 1-2.8-2.8l8.5-8.5"
)
BOOK = "M2 4h6a4 4 0 0 1 4 4v12a3 3 0 0 0-3-3H2zM22 4h-6a4 4 0 0 0-4 4v12a3 3 0 0 1 3-3h7z"
ICON_GREY = "#7d8590"  # readable on the light and the dark theme
DIALOG_FILTER = "Documents (" + " ".join(f"*{s}" for s in sorted(SUPPORTED)) + ");;All files (*)"


def local_files(mime: QMimeData) -> list[Path]:
    """Local files a drag or the clipboard carries: as URLs, or as ``file://`` lines of text
    (what a file manager's "Copy" puts on the clipboard for some desktops)."""
    if mime.hasUrls():
        return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
    if mime.hasText():
        lines = [line.strip() for line in mime.text().splitlines() if line.strip()]
        if lines and all(line.startswith("file://") for line in lines):
            return [Path(QUrl(line).toLocalFile()) for line in lines]
    return []


def is_document(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED


def read(
    path: Path,
    library: Library | None,
    cancelled: Callable[[], bool],
    progress: Callable[[str], None] = lambda _m: None,
) -> Attachment | None:
    """:func:`attach`, with a folder refused in words that say where folders go; None when
    the chip went (or the window closed) before the file was read."""
    if path.is_dir():
        from seesay.docs.convert import DocumentError

        raise DocumentError(
            f"{path.name} is a folder. Add it to the library (Documents → Library…) to search what it holds."
        )
    try:
        return attach(path, library, cancelled, progress)
    except Cancelled:
        return None


class AttachmentChip(QFrame):
    """One attached file: its name, then "reading…", how much the model will see, or why not."""

    remove_requested = Signal(object)  # self
    settled = Signal(object)  # self: read, or refused

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentChip")
        self.path = path
        self.cancel = threading.Event()  # set when the chip goes before its file is read
        self.state = "reading"
        self.attachment: Attachment | None = None
        self.error = ""
        self.icon = QLabel(path.suffix.lstrip(".").upper()[:4] or "FILE")
        self.icon.setObjectName("attachmentKind")
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name = QLabel(path.name)
        self.name.setObjectName("attachmentName")
        self.detail = QLabel("Reading…")
        self.detail.setObjectName("attachmentDetail")
        self.detail.setWordWrap(True)
        self.detail.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.busy = QProgressBar()
        self.busy.setObjectName("attachmentProgress")
        self.busy.setRange(0, 0)  # indeterminate: attach() reports no fraction
        self.busy.setTextVisible(False)
        self.busy.setFixedWidth(60)
        self.remove_button = QToolButton()
        self.remove_button.setObjectName("attachmentRemove")
        self.remove_button.setText("✕")
        self.remove_button.setToolTip(f"Remove {path.name}")
        self.remove_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self))
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.setSpacing(6)
        row.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.name, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.detail, 1, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.busy, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        self.setToolTip(str(path))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._restyle()

    def set_ready(self, attachment: Attachment | None) -> None:
        if attachment is None:  # cancelled: the chip is on its way out
            return
        self.state, self.attachment = "ready", attachment
        detail = attachment.describe().removeprefix(f"{attachment.name}: ")
        self.detail.setText(detail)
        self.setToolTip(f"{attachment.path}\n{attachment.describe()}")
        self._restyle()
        self.settled.emit(self)

    def set_progress(self, message: str) -> None:
        """How far a long file has come ("Reading page 40 of 200…", "Indexing for search: 35%…")."""
        if self.state == "reading":
            self.detail.setText(message)

    def set_failed(self, message: str) -> None:
        self.state, self.error = "failed", message
        self.detail.setText(f"⚠ {message}")
        self.setToolTip(f"{self.path}\n{message}")
        self._restyle()
        log.info("could not attach %s: %s", self.path, message)
        self.settled.emit(self)

    def _restyle(self) -> None:
        self.busy.setVisible(self.state == "reading")
        for widget in (self, self.icon, self.detail):  # a child's style does not follow its parent's
            widget.setProperty("state", self.state)
            widget.style().unpolish(widget)
            widget.style().polish(widget)


class AttachmentTray(QWidget):
    """The chips of the message being written; files are read as soon as they are added."""

    changed = Signal()  # a file was added, removed, read or refused
    chosen = Signal(list)  # paths picked in the file dialog

    def __init__(self, library: Callable[[], Library | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentTray")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._library = library
        self._chips: list[AttachmentChip] = []
        self.pool = QThreadPool(self)  # its own, so closing waits for these reads alone
        self.pool.setMaxThreadCount(2)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 2)
        self._layout.setSpacing(3)
        self.attach_button = QToolButton()
        self.attach_button.setObjectName("attachButton")
        self.attach_button.setIcon(line_icon(PAPERCLIP))
        self.attach_button.setIconSize(QSize(18, 18))
        self.attach_button.setToolTip(f"Attach documents to the message: {KINDS}")
        self.attach_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.attach_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.attach_button.clicked.connect(self.choose)
        self.hide()

    # --- state --------------------------------------------------------------------------------
    def chips(self) -> list[AttachmentChip]:
        return list(self._chips)

    @property
    def reading(self) -> list[AttachmentChip]:
        return [c for c in self._chips if c.state == "reading"]

    @property
    def busy(self) -> bool:
        return bool(self.reading)

    def ready(self) -> list[Attachment]:
        return [c.attachment for c in self._chips if c.attachment is not None]

    # --- adding and removing ------------------------------------------------------------------
    def choose(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(self, "Attach documents", "", DIALOG_FILTER)
        if paths:
            self.add([Path(p) for p in paths])
            self.chosen.emit(paths)

    def add(self, paths: Iterable[Path]) -> list[AttachmentChip]:
        """A chip per new file, each read on the thread pool; files already attached are skipped."""
        added = []
        have = {c.path for c in self._chips}
        for path in paths:
            path = Path(path).expanduser().absolute()
            if path in have:
                continue
            have.add(path)
            chip = AttachmentChip(path)
            chip.remove_requested.connect(self.remove)
            self._chips.append(chip)
            self._layout.addWidget(chip)
            self._read(chip)
            added.append(chip)
        self.setVisible(bool(self._chips))
        if added:
            self.changed.emit()
        return added

    def restore(self, attachments: Iterable[Attachment]) -> None:
        """Chips for files already read (a message taken back into the composer)."""
        for attachment in attachments:
            chip = AttachmentChip(Path(attachment.path))
            chip.remove_requested.connect(self.remove)
            chip.set_ready(attachment)
            self._chips.append(chip)
            self._layout.addWidget(chip)
        self.setVisible(bool(self._chips))
        self.changed.emit()

    def _read(self, chip: AttachmentChip) -> None:
        library = self._library()
        path = chip.path
        task = BackgroundTask(lambda progress: read(path, library, chip.cancel.is_set, progress))
        task.setAutoDelete(False)
        _in_flight.add(task)
        # Slots of the chip: if it is removed (or the window closes) first, the result goes nowhere.
        task.signals.done.connect(chip.set_ready)
        task.signals.failed.connect(chip.set_failed)
        task.signals.progress.connect(chip.set_progress)
        for signal in (task.signals.done, task.signals.failed):
            signal.connect(lambda _result, t=task: _in_flight.discard(t))
        chip.settled.connect(self._on_settled)
        self.pool.start(task)

    def _on_settled(self, chip: AttachmentChip) -> None:
        if chip in self._chips:
            self.changed.emit()

    def remove(self, chip: AttachmentChip) -> None:
        """A chip still reading goes at once; its result is dropped when it arrives."""
        if chip not in self._chips:
            return
        chip.cancel.set()
        self._chips.remove(chip)
        self._layout.removeWidget(chip)
        chip.deleteLater()
        self.setVisible(bool(self._chips))
        self.changed.emit()

    def take(self) -> list[Attachment]:
        """The files read, for the message being sent; every chip goes (refused ones too)."""
        attachments = self.ready()
        for chip in list(self._chips):
            self.remove(chip)
        return attachments

    def clear(self) -> None:
        self.take()

    def cancel(self) -> None:
        """Stops the files still being read (the window is closing): each at its next page or
        batch of passages, before the history they would be indexed into is closed."""
        for chip in self.reading:
            chip.cancel.set()
        self.pool.waitForDone(10_000)


def attachment_lines(meta: dict[str, Any]) -> list[str]:
    """What a sent message had attached and how much of each the model saw, from its saved meta."""
    return [Attachment.from_meta(a).describe() for a in meta.get("attachments", []) if isinstance(a, dict)]


class AttachedList(QWidget):
    """Under a sent message: one line per attached file (name, pages, how much was read)."""

    def __init__(self, meta: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachedList")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.labels: list[QLabel] = []
        self.lines = attachment_lines(meta)
        for data, line in zip(meta.get("attachments", []), self.lines, strict=False):
            label = QLabel(f"<img src='{_clip_uri()}' width=12 height=12> {html.escape(line)}")
            label.setObjectName("attachedFile")
            label.setWordWrap(True)
            label.setToolTip(str(data.get("path", "")))
            label.setAlignment(Qt.AlignmentFlag.AlignRight)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(label)
            self.labels.append(label)

    def text(self) -> str:
        return "\n".join(self.lines)


def search_toggle() -> QToolButton:
    """The chat's "Search my documents" switch (on: every question is looked up in the library)."""
    button = QToolButton()
    button.setObjectName("searchDocsButton")
    button.setIcon(line_icon(BOOK))
    button.setIconSize(QSize(18, 18))
    button.setCheckable(True)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.setToolTip(
        "Search my documents: answer from the folders in your library, citing the passages "
        "(Documents → Library… to add folders)"
    )
    return button


def line_icon(path: str, colour: str = ICON_GREY, size: int = 48) -> QIcon:
    """A stroked 24×24 SVG path as an icon, drawn at ``size`` pixels so it stays sharp."""
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="{colour}" '
        f'stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="{path}"/></svg>'
    )
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    QSvgRenderer(QByteArray(svg.encode())).render(painter)
    painter.end()
    return QIcon(pixmap)


def _clip_uri() -> str:
    """The paperclip as a data: URI, for rich-text labels."""
    buffer = QBuffer()
    buffer.open(QBuffer.OpenModeFlag.WriteOnly)
    line_icon(PAPERCLIP, size=24).pixmap(24, 24).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(bytes(buffer.data().data())).decode()
