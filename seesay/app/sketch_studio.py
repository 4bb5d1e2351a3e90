"""Sketch studio: the sketch, its live page and the code side by side; revise, undo, save.

Image analysis, OCR and generation run on a thread pool; the UI thread only shows
results, so the window stays responsive while OCR takes a second. A revision applies
what the rule edits understand at once (milliseconds, see :mod:`seesay.vision.revision`)
and sends only the rest to a model, in the background, with a Stop that cancels the
model's stream at the next token; the chat engine runs several replies at once, so a
revision does not hold up the chat. A result that arrives after Stop, or after another
sketch was opened, is dropped.

Every generated or revised page is a *version* of its sketch's history: undo/redo walk
that history and never another sketch's, and a hand edit in the code editor becomes a
new version the first time it is changed. The preview is the network-isolated
``SandboxedPreview``; saved pages are sealed with a no-network CSP and a header comment
(see :mod:`seesay.vision.safety`).
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThreadPool, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QGuiApplication,
    QKeySequence,
    QPixmap,
    QShortcut,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from seesay.app.preview import SandboxedPreview
from seesay.app.workers import BackgroundTask
from seesay.config import Settings
from seesay.vision.images import EXTENSIONS

log = logging.getLogger(__name__)


class HtmlHighlighter(QSyntaxHighlighter):
    """Tags, attributes, strings, comments and CSS properties, enough to read a page at a glance."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)

        def fmt(colour: str, bold: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(colour))
            if bold:
                f.setFontWeight(QFont.Weight.Bold)
            return f

        self.rules = [
            (re.compile(r"</?[A-Za-z][\w-]*|/?>"), fmt("#2f5bd3", True)),
            (re.compile(r"\s[\w:-]+(?==)"), fmt("#9a4dbf")),
            (re.compile(r"[\w-]+(?=\s*:[^:])"), fmt("#0f7b6c")),  # CSS property names
            (re.compile(r"#[0-9a-fA-F]{3,8}\b"), fmt("#b35c00")),
            (re.compile(r"\"[^\"]*\"|'[^']*'"), fmt("#b5322c")),
        ]
        self.comment = fmt("#7a8294")

    def highlightBlock(self, text: str) -> None:
        for pattern, style in self.rules:
            for m in pattern.finditer(text):
                self.setFormat(m.start(), m.end() - m.start(), style)
        # Comments may span lines: state 1 means "inside <!-- ... -->".
        start = 0 if self.previousBlockState() == 1 else text.find("<!--")
        self.setCurrentBlockState(0)
        while start >= 0:
            end = text.find("-->", start)
            if end < 0:
                self.setCurrentBlockState(1)
                self.setFormat(start, len(text) - start, self.comment)
                break
            self.setFormat(start, end + 3 - start, self.comment)
            start = text.find("<!--", end + 3)


def dropped_image(mime: Any) -> tuple[Path | None, str]:
    """The image file a drag carries, or None and why it is refused."""
    if not mime.hasUrls():
        return (None, "Drop an image file here.") if not mime.hasImage() else (None, "")
    urls = [u for u in mime.urls() if u.isLocalFile()]
    if len(urls) != 1:
        return None, "Drop one image file at a time."
    path = Path(urls[0].toLocalFile())
    if path.is_dir():
        return None, f"{path.name} is a folder; drop an image file."
    if path.suffix.lower() not in EXTENSIONS:
        return None, f"{path.name} is not an image (PNG, JPEG, WebP, BMP, GIF or TIFF)."
    return path, ""


class ScaledImage(QLabel):
    """Shows a picture fitted to the label, re-fitted whenever the label is resized."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._source = QPixmap()
        # Ignored: the pixmap must not dictate the label's size, or fitting would feed back.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def set_image(self, pixmap: QPixmap) -> None:
        self._source = pixmap
        self._fit()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if not self._source.isNull():
            self.setPixmap(
                self._source.scaled(
                    self.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )


@dataclass
class History:
    """One sketch's versions of its page, oldest first: undo and redo walk this list only,
    so a new sketch starts a new history and Undo can never show another sketch's page."""

    versions: list[tuple[str, str]] = field(default_factory=list)  # (html, description)
    index: int = -1
    hand_edit: bool = False  # the current version is a hand edit still being typed

    def push(self, page: str, description: str) -> None:
        del self.versions[self.index + 1 :]
        self.versions.append((page, description))
        self.index = len(self.versions) - 1
        self.hand_edit = False


class StoppableEngine:
    """The chat engine as one revision sees it: :meth:`stop` cancels every stream the
    revision opened (at the next token) and any it opens afterwards, from any thread."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._streams: list[Any] = []
        self._lock = threading.Lock()
        self.stopped = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def stream(self, messages: Any, params: Any = None) -> Any:
        stream = self._engine.stream(messages, params)
        with self._lock:
            self._streams.append(stream)
            if self.stopped:
                stream.cancel()
        return stream

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            streams = list(self._streams)
        for stream in streams:
            stream.cancel()


@dataclass(eq=False)
class _Running:
    """The task whose result the studio is waiting for; ``stop`` is None when it cannot be stopped."""

    stop: Callable[[], None] | None = None
    stopped_text: str = ""


class SketchStudio(QWidget):
    """The whole sketch-to-website view; ``open_image(path)`` starts a generation."""

    imageOpened = Signal(str)
    pageReady = Signal(str)
    failed = Signal(str)
    busyChanged = Signal(bool)
    message = Signal(str)

    def __init__(
        self,
        settings: Settings | None = None,
        parent: QWidget | None = None,
        *,
        engine_provider: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or Settings()
        self.engine_provider = engine_provider
        self.image_path: Path | None = None
        self.layout_json: dict[str, Any] | None = None
        self.history = History()
        self.busy = False
        self._running: _Running | None = None
        self._tasks: set[BackgroundTask] = set()
        self.pool = QThreadPool(self)
        # Two threads: a stopped revision may still be winding down (a vision model finishes its
        # step) while the next sketch is read.
        self.pool.setMaxThreadCount(2)
        self.setAcceptDrops(True)
        self._build()

    @property
    def versions(self) -> list[tuple[str, str]]:
        """The current sketch's versions (html, description)."""
        return self.history.versions

    @versions.setter
    def versions(self, versions: list[tuple[str, str]]) -> None:
        self.history.versions = versions

    @property
    def index(self) -> int:
        return self.history.index

    @index.setter
    def index(self, index: int) -> None:
        self.history.index = index

    # --- UI ---------------------------------------------------------------------------------------

    def _build(self) -> None:
        bar = QHBoxLayout()
        # Short labels, full words in tooltips: the bar must fit an 800-pixel-wide window.
        buttons = [
            ("Open…", "Open an image of a sketch (Ctrl+O)"),
            ("Undo", "Previous version"),
            ("Redo", "Next version"),
            ("Save…", "Save the page as one .html file"),
            ("Browser", "Open the page in your web browser"),
            ("Copy", "Copy the page's code"),
        ]
        (
            self.open_button,
            self.undo_button,
            self.redo_button,
            self.save_button,
            self.browser_button,
            self.copy_button,
        ) = made = [QPushButton(text) for text, _tip in buttons]
        for button, (_text, tip) in zip(made, buttons, strict=True):
            button.setToolTip(tip)
            bar.addWidget(button)
        bar.addStretch(1)
        self.version_label = QLabel("")
        bar.addWidget(self.version_label)

        self.image_label = ScaledImage("Drop, paste or open a photo of a sketch")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setWordWrap(True)
        self.image_label.setMinimumSize(140, 120)
        self.image_label.setObjectName("sketchImage")
        self.preview = SandboxedPreview(self)
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFont("DejaVu Sans Mono", 10))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.highlighter = HtmlHighlighter(self.editor.document())

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.preview)
        right.addWidget(self.editor)
        right.setSizes([420, 240])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.image_label)
        split.addWidget(right)
        split.setSizes([300, 700])

        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("Ask for a change, e.g. “make the header dark blue and add a footer”")
        self.revise_button = QPushButton("Revise")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the model's revision; the page stays as it is (Esc)")
        self.stop_button.hide()
        prompt_row = QHBoxLayout()
        prompt_row.addWidget(self.prompt, 1)
        prompt_row.addWidget(self.revise_button)
        prompt_row.addWidget(self.stop_button)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(6)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addLayout(prompt_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

        self.open_button.clicked.connect(self._choose_file)
        self.undo_button.clicked.connect(self.undo)
        self.redo_button.clicked.connect(self.redo)
        self.save_button.clicked.connect(self._save_dialog)
        self.browser_button.clicked.connect(self.open_in_browser)
        self.copy_button.clicked.connect(self.copy_code)
        self.revise_button.clicked.connect(self._revise_from_prompt)
        self.stop_button.clicked.connect(self.stop)
        self.prompt.returnPressed.connect(self._revise_from_prompt)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.stop)
        self._edit_timer = QTimer(self, singleShot=True, interval=400)
        self._edit_timer.timeout.connect(self._apply_hand_edit)
        self.editor.textChanged.connect(self._edit_timer.start)
        QShortcut(QKeySequence.StandardKey.Paste, self).activated.connect(self.paste)
        self.failed.connect(self._show_error)
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        has = self.index >= 0
        self.undo_button.setEnabled(self.index > 0 and not self.busy)
        self.redo_button.setEnabled(self.index < len(self.versions) - 1 and not self.busy)
        for b in (self.save_button, self.browser_button, self.copy_button, self.revise_button):
            b.setEnabled(has and not self.busy)
        self.open_button.setEnabled(not self.busy)
        self.version_label.setText(f"version {self.index + 1} of {len(self.versions)}" if has else "")

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        self.progress.setVisible(busy)
        stoppable = busy and self._running is not None and self._running.stop is not None
        self.stop_button.setVisible(stoppable)
        self.revise_button.setVisible(not stoppable)
        self.editor.setReadOnly(busy)  # an edit now would be lost under the result
        if text:
            self.status.setText(text)
        self._refresh_buttons()
        self.busyChanged.emit(busy)

    def _show_error(self, text: str) -> None:
        self.status.setText(f"⚠ {text}")

    # --- opening ----------------------------------------------------------------------------------

    def open_image(self, path: str | Path) -> bool:
        """Start analysing ``path``; False (with a message) when busy or not an image file."""
        path = Path(path)
        if path.is_dir() or path.suffix.lower() not in EXTENSIONS:
            self.failed.emit(f"{path.name} is not an image (PNG, JPEG, WebP, BMP, GIF or TIFF).")
            return False
        if self.busy and not self.stop():  # a revision of the old sketch gives way to the new one
            self.message.emit("Still reading the previous sketch.")
            return False
        self.image_path = path
        self.image_label.set_image(QPixmap(str(path)))
        self.imageOpened.emit(str(path))
        settings, engine_provider = self.settings, self.engine_provider

        def work(progress: Callable[[str], None]) -> Any:
            from seesay.vision.pipeline import sketch_to_page

            engine = engine_provider() if engine_provider and settings.vision.refine_with_llm else None
            return sketch_to_page(path, settings, engine=engine, progress=progress)

        self._run(work, self._generated, f"Reading {path.name}…")
        return True

    def _generated(self, result: Any) -> None:
        self.layout_json = result.layout.to_dict()
        found = len(result.layout.elements)
        note = "; ".join(result.notes)
        self.history = History()  # a new sketch, a new history
        self._push(result.html, f"from the sketch ({result.source})")
        total = sum(v for k, v in result.timings.items())
        self.status.setText(f"Found {found} elements in {total:.1f} s." + (f" {note}." if note else ""))

    def _choose_file(self) -> None:
        pattern = " ".join(f"*{e}" for e in EXTENSIONS)
        path, _ = QFileDialog.getOpenFileName(self, "Open a sketch", "", f"Images ({pattern})")
        if path:
            self.open_image(path)

    def paste(self) -> None:
        """Paste an image (or an image file) from the clipboard."""
        mime = QGuiApplication.clipboard().mimeData()
        path, why = dropped_image(mime)
        if path is not None:
            self.open_image(path)
        elif mime.hasImage():
            image = QGuiApplication.clipboard().image()
            tmp = Path(tempfile.mkdtemp(prefix="seesay-paste-")) / "pasted.png"
            image.save(str(tmp))
            self.open_image(tmp)
        elif why:
            self.failed.emit(why)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        path, why = dropped_image(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
        else:
            self.failed.emit(why or "Only images can be dropped here.")
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path, why = dropped_image(event.mimeData())
        if path is None:
            self.failed.emit(why)
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_image(path)

    # --- revising ---------------------------------------------------------------------------------

    def _revise_from_prompt(self) -> None:
        text = self.prompt.text().strip()
        if text:
            self.revise(text)

    def revise(self, instruction: str) -> bool:
        """Apply ``instruction`` to the page: rule edits now, the rest through a model in the
        background. False when there is no page or a revision is still running."""
        instruction = instruction.strip()
        if not instruction:
            return False
        if self.index < 0:
            self.failed.emit("Open a sketch first: there is no page to revise yet.")
            return False
        if self.busy:
            self.message.emit("Still working; stop the revision first or wait for it.")
            return False
        from seesay.vision.revision import apply_rules, not_understood

        started = time.perf_counter()
        rules = apply_rules(self.current_html(), instruction)
        log.info("rule revision in %.1f ms", (time.perf_counter() - started) * 1000)
        if rules.done:
            self._push(rules.html, instruction if not rules.unknown else " ".join(rules.done))
        notes = rules.done + rules.refused
        if not rules.unknown:
            self._report(notes, changed=bool(rules.done))
            return True
        rest = " and ".join(rules.unknown)
        engine = self.engine_provider() if self.engine_provider else None
        if engine is None and not self.settings.vision.vlm_model.strip():
            self._report([*notes, not_understood(rest, changed=bool(rules.done))], changed=bool(rules.done))
            return True
        self._revise_with_model(rest, engine, notes, ruled=bool(rules.done))
        return True

    def _revise_with_model(self, instruction: str, engine: Any, notes: list[str], *, ruled: bool) -> None:
        """Ask the model (or the vision model the settings name) for ``instruction``, stoppably;
        ``notes`` say what the rule edits (``ruled``: some were applied) did before."""
        page, history = self.current_html(), self.history
        settings, image = self.settings, self.image_path
        stoppable = StoppableEngine(engine) if engine is not None else None

        def work(progress: Callable[[str], None]) -> Any:
            from seesay.vision.pipeline import revise

            return revise(page, instruction, engine=stoppable, settings=settings, image=image)

        def done(result: Any) -> None:
            if history is not self.history:  # another sketch is open now: this page is not on screen
                return
            changed = result.source in ("model", "vlm", "rules") and result.html.strip() != page.strip()
            if changed:
                self._push(result.html, instruction)
            self._report([*notes, *result.notes], changed=changed or ruled)

        so_far = " ".join(notes) + " " if notes else ""
        wait = ""
        if engine is not None and int(getattr(engine, "parallel", 1)) < 2:
            wait = " Chat replies wait until it ends or you stop it."
        stopped = f"Stopped the model: “{instruction}” is not applied" + (
            "." if ruled else "; the page is unchanged."
        )
        self._run(
            work,
            done,
            f"{so_far}Asking the model to “{instruction}”…{wait}",
            stop=stoppable.stop if stoppable is not None else (lambda: None),
            stopped_text=f"{so_far}{stopped}",
        )

    def _report(self, notes: list[str], *, changed: bool) -> None:
        """Say what the revision did; a warning sign when it changed nothing."""
        text = " ".join(notes) or "Nothing changed."
        self.status.setText(text if changed else f"⚠ {text}")
        if changed:
            self.prompt.clear()

    def stop(self) -> bool:
        """Stop the running revision: its model stream ends at the next token and its result,
        should one still arrive, is dropped. False when nothing stoppable is running."""
        running = self._running
        if running is None or running.stop is None:
            return False
        self._running = None
        running.stop()
        self._set_busy(False)
        self.status.setText(running.stopped_text)
        return True

    def _run(
        self,
        fn: Callable[[Callable[[str], None]], Any],
        on_done: Callable[[Any], None],
        text: str,
        *,
        stop: Callable[[], None] | None = None,
        stopped_text: str = "",
    ) -> None:
        task = BackgroundTask(fn)
        task.setAutoDelete(False)
        self._tasks.add(task)
        running = _Running(stop, stopped_text)

        def finish(result: Any = None, error: str | None = None) -> None:
            if not isValid(self):  # the window deleted the studio after closing it: nobody waits
                return
            self._tasks.discard(task)
            if self._running is not running:  # stopped, or replaced: nothing on screen waits for it
                log.info("dropped the result of a stopped task")
                return
            self._running = None
            self._set_busy(False)
            if error is not None:
                self.failed.emit(error)
            else:
                on_done(result)

        def progress(message: str) -> None:
            if isValid(self) and self._running is running:
                self.status.setText(message)

        task.signals.done.connect(lambda r: finish(r))
        task.signals.failed.connect(lambda e: finish(error=e))
        task.signals.progress.connect(progress)
        self._running = running
        self._set_busy(True, text)
        self.pool.start(task)

    # --- versions ---------------------------------------------------------------------------------

    def current_html(self) -> str:
        return self.editor.toPlainText()

    def _push(self, page: str, description: str) -> None:
        self.history.push(page, description)
        self._show_version()
        self.pageReady.emit(page)

    def _show_version(self) -> None:
        page, _ = self.versions[self.index]
        self._edit_timer.stop()  # a pending hand edit belongs to the version being left
        self.history.hand_edit = False
        self.editor.blockSignals(True)
        self.editor.setPlainText(page)
        self.editor.blockSignals(False)
        self.preview.set_html(page)
        self._refresh_buttons()

    @Slot()
    def _apply_hand_edit(self) -> None:
        if self.index < 0 or self.busy:
            return
        page = self.current_html()
        if not self.history.hand_edit:  # the first keystroke after a generation starts a new version
            self.history.push(page, "hand edit")
            self.history.hand_edit = True
        else:
            self.versions[self.index] = (page, "hand edit")
        self.preview.set_html(page)
        self._refresh_buttons()

    def undo(self) -> None:
        if self.index > 0 and not self.busy:
            self.index -= 1
            self._show_version()

    def redo(self) -> None:
        if self.index < len(self.versions) - 1 and not self.busy:
            self.index += 1
            self._show_version()

    # --- output -----------------------------------------------------------------------------------

    def save_to(self, path: str | Path) -> Path:
        """Write the current page as one self-contained, sealed .html file: the page runs in a
        sandboxed frame under a no-network CSP, so no browser lets it navigate or fetch anything."""
        from seesay.vision.safety import for_saving

        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            path = path.with_suffix(".html")
        path.write_text(for_saving(self.current_html()), encoding="utf-8")
        self.status.setText(f"Saved {path}")
        return path

    def _save_dialog(self) -> None:
        default = self.image_path.with_suffix(".html").name if self.image_path else "page.html"
        path, _ = QFileDialog.getSaveFileName(self, "Save page", default, "Web page (*.html)")
        if path:
            try:
                self.save_to(path)
            except OSError as e:
                self.failed.emit(f"Could not save {path}: {e.strerror or e}")

    def open_in_browser(self) -> Path | None:
        """Hand the page to the user's browser as a sealed file (see :meth:`save_to`): the browser
        has none of the preview's protections, so the file must carry its own."""
        if self.index < 0:
            return None
        from seesay.vision.safety import for_saving

        try:
            path = Path(tempfile.mkdtemp(prefix="seesay-page-")) / "page.html"
            path.write_text(for_saving(self.current_html()), encoding="utf-8")
        except OSError as e:
            self.failed.emit(f"Could not prepare the page for your browser: {e.strerror or e}")
            return None
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.failed.emit(f"No web browser opened the page; it is saved at {path}.")
        return path

    def copy_code(self) -> None:
        QGuiApplication.clipboard().setText(self.current_html())
        self.status.setText("Code copied.")

    def closeEvent(self, event: Any) -> None:
        self.stop()
        self.pool.waitForDone(30_000)
        self.preview.close()
        super().closeEvent(event)
