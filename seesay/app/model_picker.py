"""The model picker in Settings: installed and recommended chat models, with size, memory fit
and a download (with progress) where the Hugging Face hub is reachable.

Picking a model only fills in ``model.name``; the window loads it after Settings closes, and
keeps the working model if the new one cannot be loaded.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seesay.errors import SeeSayError
from seesay.inference.catalogue import Entry, entries

NAME_ROLE = Qt.ItemDataRole.UserRole + 1


class _Download(QObject):
    progress = Signal(float, str)
    done = Signal(str)  # the repository id, now in the cache
    failed = Signal(str)


class _Listing(QObject):
    ready = Signal(object, str)  # entries, the name to select


class ModelPicker(QWidget):
    """Choose ``model.name`` from a list; ``value()`` is the choice ("" is the bundled model)."""

    changed = Signal(str)

    def __init__(self, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelPicker")
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("modelTable")
        self.table.setHorizontalHeaderLabels(["Model", "Size", "Needs", ""])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(170)
        self.name_edit = QLineEdit(current)
        self.name_edit.setPlaceholderText("Bundled SmolLM2-135M-Instruct")
        self.name_edit.setToolTip("A model folder, a .gguf file or a Hugging Face id (chosen above or typed)")
        self.browse_button = QPushButton("Browse…")
        menu = QMenu(self.browse_button)
        menu.addAction("Model folder…", self._browse_folder)
        menu.addAction("GGUF file…", self._browse_file)
        self.browse_button.setMenu(menu)
        self.download_button = QPushButton("Download")
        self.download_button.setToolTip("Download the selected model from the Hugging Face hub")
        self.download_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("loadProgress")
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.status = QLabel()
        self.status.setObjectName("fieldHelp")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.name_edit, 1)
        row.addWidget(self.browse_button)
        row.addWidget(self.download_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self._entries: list[Entry] = []
        self._download: _Download | None = None
        self.table.itemSelectionChanged.connect(self._on_selected)
        self.name_edit.textChanged.connect(self._on_typed)
        self.download_button.clicked.connect(self.download_selected)
        self.refresh(current)

    def value(self) -> str:
        return self.name_edit.text().strip()

    def set_value(self, name: str) -> None:
        self.name_edit.setText(name)

    def refresh(self, select: str | None = None) -> None:
        """List the models on a worker thread (the memory check may import torch, the cache scan
        reads the disk) and fill the table when done; the window never waits for it."""
        select = self.value() if select is None else select
        self.status.setText("Looking for models…")
        listing = _Listing(self)
        listing.ready.connect(self._show)
        threading.Thread(
            target=lambda: listing.ready.emit(entries(select), select), daemon=True, name="seesay-model-list"
        ).start()

    @Slot(object, str)
    def _show(self, found: list[Entry], select: str) -> None:
        self._entries = found
        self.status.setText("")
        self.table.setRowCount(len(self._entries))
        for row, e in enumerate(self._entries):
            cells = [
                e.title,
                f"{e.size_gb:.1f} GB" if e.size_gb else "",
                f"{e.memory_gb:.1f} GB",
                "installed" if e.installed else "download",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(NAME_ROLE, e.name)
                tip = e.note + ("" if e.fits else " — needs more memory than this machine has free")
                item.setToolTip(tip.strip(" —"))
                if col == 2 and not e.fits:
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(row, col, item)
        self._select_row(select)

    def _select_row(self, name: str) -> None:
        self.table.blockSignals(True)
        self.table.clearSelection()
        for row, e in enumerate(self._entries):
            if e.name == name or (not name.strip() and e.name == ""):
                self.table.selectRow(row)
                break
        self.table.blockSignals(False)
        self._update_buttons()

    def _selected(self) -> Entry | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self._entries[rows.pop()] if rows else None

    @Slot()
    def _on_selected(self) -> None:
        entry = self._selected()
        if entry is not None:
            self.name_edit.blockSignals(True)
            self.name_edit.setText(entry.name)
            self.name_edit.blockSignals(False)
            self.changed.emit(entry.name)
        self._update_buttons()

    @Slot(str)
    def _on_typed(self, text: str) -> None:
        self._select_row(text.strip())
        self.changed.emit(text.strip())

    def _update_buttons(self) -> None:
        entry = self._selected()
        busy = self._download is not None
        self.download_button.setEnabled(entry is not None and not entry.installed and not busy)
        if entry is not None and not busy:
            fit = "" if entry.fits else " It needs more memory than this machine has free."
            where = "On this computer." if entry.installed else "Not downloaded yet."
            self.status.setText(f"{where} {entry.note.capitalize()}.{fit}".replace("..", "."))

    # --- downloading --------------------------------------------------------------------------
    @Slot()
    def download_selected(self) -> None:
        entry = self._selected()
        if entry is None or entry.installed or self._download is not None:
            return
        job = _Download()
        job.progress.connect(self._on_progress)
        job.done.connect(self._on_done)
        job.failed.connect(self._on_failed)
        self._download = job
        self.progress.setValue(0)
        self.progress.show()
        self.status.setText(f"Downloading {entry.name}…")
        self._update_buttons()
        threading.Thread(
            target=_pull, args=(job, entry.name), name="seesay-model-download", daemon=True
        ).start()

    @Slot(float, str)
    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(fraction * 100))
        self.status.setText(message)

    @Slot(str)
    def _on_done(self, repo_id: str) -> None:
        self._download = None
        self.progress.hide()
        self.refresh(repo_id)
        self.set_value(repo_id)
        self.status.setText(f"Downloaded {repo_id}; it loads when you press OK.")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._download = None
        self.progress.hide()
        self.status.setText(message)
        self._update_buttons()

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if path:
            self.set_value(path)

    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", "", "GGUF models (*.gguf)")
        if path:
            self.set_value(path)


def _list(listing: _Listing, select: str) -> None:
    found = entries(select)
    with contextlib.suppress(RuntimeError):  # the dialog was closed meanwhile
        listing.ready.emit(found, select)


def _pull(job: Any, repo_id: str) -> None:
    from seesay.inference import hub

    try:
        hub.pull(repo_id, lambda fraction, message: job.progress.emit(float(fraction), str(message)))
    except SeeSayError as e:
        job.failed.emit(str(e))
    except Exception as e:  # a download must never take the window down
        job.failed.emit(f"The download failed: {type(e).__name__}: {e}")
    else:
        job.done.emit(repo_id)
