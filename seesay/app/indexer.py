"""Keeps the document library in step with the disk while the window runs.

One worker thread takes jobs in order (sync, forget a folder), so a folder is never
forgotten halfway through its own indexing: removing cancels the sync in hand, the removal
runs, and the sync starts again for what is left. A sync runs at startup and, through a
file-system watcher on the folders, their subfolders and their files, shortly after
anything in them changes (a burst of changes, such as a copy of a hundred files, is one
sync). Closing the window cancels the job in hand at its next file or batch of passages;
the library's one-transaction-per-file writes leave the index sound wherever it stops.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

from seesay.docs.convert import supported
from seesay.docs.library import SKIPPED_DIRS, Library, Progress, SyncReport
from seesay.errors import SeeSayError

log = logging.getLogger(__name__)

DEBOUNCE_MS = 1500  # after the last change seen, so a burst of changes is one sync
MAX_WATCHED = 4000  # inotify watches are a per-user resource shared with every other app


class LibraryIndexer(QObject):
    """The window's handle on background indexing: jobs go in, progress comes out as signals."""

    progress = Signal(int, int, str)  # done, total, file being read
    synced = Signal(object)  # SyncReport
    removed = Signal(str)  # a folder forgotten
    failed = Signal(str)
    busy_changed = Signal(bool)
    _watch = Signal(list)  # paths to watch, computed on the worker thread
    _drained = Signal()  # the worker found no more jobs

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.last_report: SyncReport | None = None
        self.busy = False
        self._jobs: deque[tuple[str, str]] = deque()
        self._wake = threading.Condition()
        self._cancel = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._on_disk_change)
        self.watcher.fileChanged.connect(self._on_disk_change)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.sync)
        self._watch.connect(self._set_watched)
        self._drained.connect(self._on_drained)
        self._running = False

    # --- requests (UI thread) -----------------------------------------------------------------
    @Slot()
    def sync(self) -> None:
        """Bring the index up to date in the background (one sync queued at most)."""
        self._put(("sync", ""))

    def add_folder(self, folder: Path) -> Path:
        """Adds the folder (a quick insert, here) and indexes it in the background."""
        added = self.library.add_folder(folder)
        self.sync()
        return added

    def remove_folder(self, folder: str) -> None:
        """Forgets the folder in the background, after stopping a sync that may be reading it."""
        self._cancel.set()
        with self._wake:
            self._jobs = deque(job for job in self._jobs if job[0] != "sync")
        self._put(("remove", folder))
        self._put(("sync", ""))

    def cancel(self) -> None:
        """Stop the sync in hand (at its next file or batch); what was indexed stays."""
        self._cancel.set()

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        """Cancel and wait for the worker; True when it ended within ``timeout_s``."""
        self._debounce.stop()
        with self._wake:
            self._closing = True
            self._jobs.clear()
            self._cancel.set()
            self._wake.notify_all()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning("document indexing did not stop within %.0f s", timeout_s)
        return not thread.is_alive()

    def _put(self, job: tuple[str, str]) -> None:
        with self._wake:
            if self._closing or (job[0] == "sync" and job in self._jobs):
                return
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="seesay-library", daemon=True)
                self._thread.start()
            self._wake.notify_all()
        if not self.busy:
            self.busy = True
            self.busy_changed.emit(True)

    # --- the worker thread --------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._wake:
                self._running = False
                if not self._jobs:
                    self._drained.emit()
                while not self._jobs and not self._closing:
                    self._wake.wait()
                if self._closing:
                    return
                kind, arg = self._jobs.popleft()
                self._running = True
                self._cancel.clear()
            try:
                if kind == "remove":
                    self.library.remove_folder(Path(arg))
                    self.removed.emit(arg)
                else:
                    report = self.library.sync(self._progress, self._cancel.is_set)
                    self.last_report = report
                    self.synced.emit(report)
                    self._watch.emit(self._watch_list())
            except SeeSayError as e:
                self.failed.emit(str(e))
            except Exception as e:  # a bug must not end the worker: the next change syncs again
                log.exception("document indexing failed")
                self.failed.emit(f"Indexing failed: {type(e).__name__}: {e}")

    @Slot()
    def _on_drained(self) -> None:
        """Idle only if no job came in since the worker said so (the signal was queued)."""
        with self._wake:
            active = bool(self._jobs) or self._running
        if self.busy and not active:
            self.busy = False
            self.busy_changed.emit(False)

    def _progress(self, p: Progress) -> None:
        self.progress.emit(p.done, p.total, p.path)

    def _watch_list(self) -> list[str]:
        """Folders, their subfolders and their documents, up to :data:`MAX_WATCHED`."""
        found: list[str] = []
        for info in self.library.folders():
            root = Path(info.path)
            if root.is_file():
                found.append(str(root))
                continue
            for folder, dirs, files in os.walk(root):
                dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS]
                found.append(folder)
                found.extend(
                    str(Path(folder) / f) for f in files if not f.startswith(".") and supported(Path(f))
                )
                if len(found) >= MAX_WATCHED:
                    log.info("watching the first %d of the library's files and folders", MAX_WATCHED)
                    return found[:MAX_WATCHED]
        return found

    # --- the watcher (UI thread) --------------------------------------------------------------
    @Slot(list)
    def _set_watched(self, paths: list[str]) -> None:
        old = set(self.watcher.files()) | set(self.watcher.directories())
        new = set(paths)
        if old - new:
            self.watcher.removePaths(sorted(old - new))
        if new - old:
            self.watcher.addPaths(sorted(new - old))

    @Slot(str)
    def _on_disk_change(self, path: str) -> None:
        log.debug("library change seen at %s", path)
        self._debounce.start()

    def watched(self) -> list[str]:
        return sorted(set(self.watcher.files()) | set(self.watcher.directories()))
