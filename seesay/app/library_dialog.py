"""The document library: which folders SeeSay searches, how much it has read of each, and
the indexing in progress.

The dialog only asks and shows; :class:`~seesay.app.indexer.LibraryIndexer` does the work
on its thread, so the dialog (and the window behind it) stays usable while a folder of
manuals is read, and closing the dialog does not stop the indexing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seesay.app.indexer import LibraryIndexer
from seesay.docs.convert import KINDS
from seesay.docs.library import FolderInfo, SyncReport
from seesay.errors import SeeSayError

log = logging.getLogger(__name__)

PATH_ROLE = Qt.ItemDataRole.UserRole


def folder_summary(info: FolderInfo) -> str:
    if not info.exists:
        return "missing: the folder was moved or deleted"
    text = f"{info.documents} document{'s' if info.documents != 1 else ''} · {info.passages:,} passages"
    if info.failed:
        text += f" · {info.failed} unreadable"
    return text


def report_summary(report: SyncReport) -> str:
    parts = [f"{report.indexed} file{'s' if report.indexed != 1 else ''} read"]
    if report.removed:
        parts.append(f"{report.removed} removed")
    if report.unchanged:
        parts.append(f"{report.unchanged} unchanged")
    if report.failed:
        parts.append(f"{len(report.failed)} unreadable")
    return "Up to date: " + ", ".join(parts) + f" ({report.seconds:.1f} s)."


class LibraryDialog(QDialog):
    """Folders with their counts, Add folder… / Remove / Sync now, and a progress bar."""

    def __init__(self, indexer: LibraryIndexer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.indexer = indexer
        self.library = indexer.library
        self.setWindowTitle("Document library")
        self.setObjectName("libraryDialog")
        self.resize(640, 420)
        intro = QLabel(
            "SeeSay searches these folders when “Search my documents” is on, and cites the "
            f"passages it used. It reads {KINDS}; the files stay where they are."
        )
        intro.setWordWrap(True)
        intro.setObjectName("fieldHelp")
        self.tree = QTreeWidget()
        self.tree.setObjectName("libraryFolders")
        self.tree.setHeaderLabels(["Folder", "Indexed"])
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setColumnWidth(0, 330)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keep the folder's own name in view
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.empty = QLabel("No folders yet. Add one and SeeSay reads it in the background.")
        self.empty.setObjectName("emptyHint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.add_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Forget the folder and its index; the files themselves stay")
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setToolTip("Read new and changed files, drop removed ones")
        self.add_button.clicked.connect(self.choose_folder)
        self.remove_button.clicked.connect(self.remove_selected)
        self.sync_button.clicked.connect(indexer.sync)
        self.progress = QProgressBar()
        self.progress.setObjectName("loadProgress")
        self.progress.setTextVisible(False)
        self.status = QLabel("")
        self.status.setObjectName("libraryStatus")
        self.status.setWordWrap(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop indexing; what was read is kept, the rest is read next time")
        self.stop_button.clicked.connect(indexer.cancel)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.stop_button)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.sync_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty)
        layout.addLayout(progress_row)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        indexer.progress.connect(self._on_progress)
        indexer.synced.connect(self._on_synced)
        indexer.removed.connect(self._on_removed)  # slots, not lambdas: they go with the dialog
        indexer.failed.connect(self._on_failed)
        indexer.busy_changed.connect(self._on_busy)
        self._on_busy(indexer.busy)
        if indexer.last_report is not None and not indexer.busy:
            self.status.setText(report_summary(indexer.last_report))
        self.refresh()

    # --- what is shown ------------------------------------------------------------------------
    def refresh(self) -> None:
        """The folders and their counts, read again from the library (a quick query)."""
        selected = self.selected_folder()
        self.tree.clear()
        try:
            folders = self.library.folders()
        except SeeSayError as e:
            self.status.setText(f"⚠ {e}")
            folders = []
        for info in folders:
            item = QTreeWidgetItem([info.path, folder_summary(info)])
            item.setData(0, PATH_ROLE, info.path)
            item.setToolTip(0, info.path)
            if info.failed:
                for path, _count, error in self.library.documents(info.path):
                    if error:
                        child = QTreeWidgetItem([Path(path).name, f"not read: {error}"])
                        child.setToolTip(0, path)
                        child.setToolTip(1, error)
                        child.setData(0, PATH_ROLE, info.path)
                        item.addChild(child)
            self.tree.addTopLevelItem(item)
            if info.path == selected:
                item.setSelected(True)
        self.tree.setVisible(bool(folders))
        self.empty.setVisible(not folders)
        self._update_buttons()

    def folder_rows(self) -> list[tuple[str, str]]:
        """(folder, summary) of each row, as shown."""
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [(item.text(0), item.text(1)) for item in items if item is not None]

    def selected_folder(self) -> str | None:
        items = self.tree.selectedItems()
        return str(items[0].data(0, PATH_ROLE)) if items else None

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(self.selected_folder() is not None)

    # --- actions ------------------------------------------------------------------------------
    @Slot()
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to the library")
        if folder:
            self.add_folder(Path(folder))

    def add_folder(self, folder: Path) -> None:
        try:
            added = self.indexer.add_folder(folder)
        except SeeSayError as e:
            self.status.setText(f"⚠ {e}")
            return
        self.status.setText(f"Added {added}; reading it…")
        self.refresh()

    @Slot()
    def remove_selected(self) -> None:
        folder = self.selected_folder()
        if folder is not None:
            self.remove_folder(folder)

    def remove_folder(self, folder: str) -> None:
        self.status.setText(f"Forgetting {folder}…")
        self.indexer.remove_folder(folder)

    # --- indexer signals ----------------------------------------------------------------------
    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, path: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        if path:
            self.status.setText(f"Reading {done + 1} of {total}: {Path(path).name}")
        if done and done % 5 == 0:
            self.refresh()

    @Slot(object)
    def _on_synced(self, report: SyncReport) -> None:
        self.status.setText(report_summary(report))
        self.refresh()

    @Slot(str)
    def _on_removed(self, folder: str) -> None:
        self.status.setText(f"Forgot {folder}; its files were not touched.")
        self.refresh()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status.setText(f"⚠ {message}")
        self.refresh()

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.stop_button.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)  # until the first count arrives
        self.sync_button.setEnabled(not busy)
