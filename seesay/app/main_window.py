"""The main window: banner, conversation sidebar, a stack of views (Chat, Sketch), status.

It wires components together and owns the engine thread; it holds no chat or model
logic itself. Images dropped anywhere on it open in the Sketch studio, except onto a
conversation in progress, where the assistant answers with what it sees in them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, Qt, QThreadPool, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from seesay.app import theme, window_state
from seesay.app.attachments import is_document, local_files
from seesay.app.banner import Banner
from seesay.app.chat_page import ChatPage
from seesay.app.indexer import LibraryIndexer
from seesay.app.library_dialog import LibraryDialog
from seesay.app.settings_dialog import ENGINE_SECTIONS, SettingsDialog, needs_reload
from seesay.app.sidebar import Sidebar
from seesay.app.sketch_studio import SketchStudio, dropped_image
from seesay.app.status import StatusPanel
from seesay.app.voice_panel import VoicePanel
from seesay.app.workers import BackgroundTask, EngineHost
from seesay.config import Settings, keys, persist
from seesay.docs.convert import KINDS
from seesay.errors import ConfigError
from seesay.store import HistoryStore

log = logging.getLogger(__name__)

NARROW_PX = 1000
COLLAPSE_PX = 640


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: Settings,
        store: HistoryStore | None,
        notices: list[tuple[str, str, str]] | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("SeeSay")
        self.setWindowIcon(theme.icon())
        self.remembered = window_state.load()
        self._apply_theme(settings.appearance.theme)
        self.settings = settings
        self.store = store
        self.host = EngineHost(self)
        self.banner = Banner()
        self.sidebar = Sidebar(store)
        self.chat = ChatPage(self.host, store, settings)
        # The voice bar sits between the conversation and the composer, on the same engine and
        # conversation as the chat: what is said shows up (and is stored) as chat messages.
        self.voice = VoicePanel(self.host, lambda: self.chat.session, lambda: self.settings)
        self.chat.layout().insertWidget(1, self.voice)
        self.views = QStackedWidget()
        self._view_names: dict[str, QWidget] = {}
        self.add_view("Chat", self.chat)
        self.studio = SketchStudio(settings, engine_provider=self._engine_if_ready)
        self.add_view("Sketch", self.studio)
        self._tasks: set[BackgroundTask] = set()
        # Folders of documents kept indexed in the background (not for a read-only history).
        library = self.chat.library
        self.indexer = LibraryIndexer(library, self) if library and store and not store.read_only else None
        self._library_dialog: LibraryDialog | None = None
        self.setAcceptDrops(True)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.views)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setHandleWidth(1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.status = StatusPanel(self.statusBar())
        self._build_actions()
        self._connect()
        for key, text, level in notices or []:
            self._notice(key, text, level)
        self._sidebar_width = 260
        self._settings_dialog: SettingsDialog | None = None
        self._loading = self._loaded = settings  # settings of the model being loaded / in use
        self._restore_layout()
        hints = QGuiApplication.styleHints()
        if hints is not None:  # the desktop switched between light and dark
            hints.colorSchemeChanged.connect(
                lambda _scheme: self._apply_theme(self.settings.appearance.theme)
            )

    def _restore_layout(self) -> None:
        state = self.remembered
        if not state.geometry or not self.restoreGeometry(QByteArray.fromBase64(state.geometry.encode())):
            self.resize(1280, 800)
        self.voice.set_collapsed(state.voice_collapsed)
        if not state.sidebar_visible:
            self.toggle_sidebar()

    def _apply_theme(self, mode: str) -> None:
        """Restyle everything; messages already on screen are drawn again in the new colours."""
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        before = theme.colours()
        theme.apply(app, mode)
        if theme.colours() != before and hasattr(self, "chat") and not self.chat.busy:
            self.chat.open_conversation(self.chat.conversation_id)

    # --- construction -------------------------------------------------------------------------
    def add_view(self, name: str, widget: QWidget) -> None:
        """Register a top-level view (e.g. "Sketch") in the stack; show it with :meth:`show_view`."""
        self._view_names[name] = widget
        self.views.addWidget(widget)

    def show_view(self, name: str) -> None:
        self.views.setCurrentWidget(self._view_names[name])

    def _action(self, text: str, shortcut: QKeySequence | str, slot: Any, tip: str) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        keys_text = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({keys_text})")
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.new_chat_action = a("New chat", "Ctrl+N", self.new_chat, "Start a new conversation")
        self.search_action = a("Search chats", "Ctrl+F", self.sidebar.focus_search, "Search chats")
        self.composer_action = a(
            "Write a message", "Ctrl+L", self.chat.composer.focus, "Focus the message box"
        )
        self.regenerate_action = a(
            "Regenerate", "Ctrl+R", self.chat.regenerate, "Answer the last message again"
        )
        self.stop_action = a("Stop", "Esc", self.chat.stop, "Stop the reply")
        self.settings_action = a("Settings…", "Ctrl+,", self.open_settings, "Open settings")
        self.reload_action = a("Reload model", "Ctrl+Shift+R", self.load_model, "Load the model again")
        self.sidebar_action = a("Show sidebar", "Ctrl+B", self.toggle_sidebar, "Show or hide the chat list")
        self.sidebar_action.setCheckable(True)
        self.sidebar_action.setChecked(True)
        self.quit_action = a("Quit", "Ctrl+Q", self.close, "Quit SeeSay")
        self.sketch_action = a(
            "Sketch studio",
            "Ctrl+Shift+K",
            lambda: self.show_view("Sketch"),
            "Turn a drawing into a web page",
        )
        self.chat_view_action = a("Chat", "Ctrl+Shift+C", lambda: self.show_view("Chat"), "Back to the chat")
        self.open_image_action = a("Open sketch…", "Ctrl+O", self._open_sketch, "Open an image as a web page")
        self.voice_action = a(
            "Talk hands-free", "Ctrl+Shift+V", self._toggle_voice, "Start or stop listening"
        )
        self.voice_action.setCheckable(True)
        self.attach_action = a(
            "Attach documents…", "Ctrl+Shift+A", self._attach_documents, "Attach files to the next message"
        )
        self.library_action = a(
            "Document library…", "Ctrl+Shift+L", self.open_library, "Folders SeeSay searches for answers"
        )
        self.library_action.setEnabled(self.indexer is not None)
        self.search_docs_action = a(
            "Search my documents",
            "Ctrl+Shift+D",
            lambda: self.set_search_library(self.search_docs_action.isChecked()),
            "Answer from the library's folders, citing sources",
        )
        self.search_docs_action.setCheckable(True)
        self.search_docs_action.setChecked(self.settings.docs.search_library)
        self.addAction(self.sidebar.rename_action)  # F2 anywhere in the window
        self.stop_action.setEnabled(False)
        self.regenerate_action.setEnabled(False)
        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        for action in (
            self.new_chat_action,
            self.open_image_action,
            self.settings_action,
            self.reload_action,
        ):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        chat_menu = menus.addMenu("&Chat")
        for action in (
            self.regenerate_action,
            self.stop_action,
            self.voice_action,
            self.sidebar.rename_action,
            self.sidebar.delete_action,
        ):
            chat_menu.addAction(action)
        docs_menu = menus.addMenu("&Documents")
        for action in (self.attach_action, self.search_docs_action, self.library_action):
            docs_menu.addAction(action)
        view_menu = menus.addMenu("&View")
        for action in (
            self.chat_view_action,
            self.sketch_action,
            self.sidebar_action,
            self.search_action,
            self.composer_action,
        ):
            view_menu.addAction(action)
        view_menu.addSeparator()
        theme_menu = view_menu.addMenu("Theme")
        self.theme_actions: dict[str, QAction] = {}
        for mode, text in (("system", "Like the desktop"), ("light", "Light"), ("dark", "Dark")):
            action = theme_menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(mode == self.settings.appearance.theme)
            action.triggered.connect(lambda _checked=False, m=mode: self.set_theme(m))
            self.theme_actions[mode] = action

    def _connect(self) -> None:
        worker = self.host.worker
        worker.progress.connect(self._on_progress)
        worker.ready.connect(self._on_ready)
        worker.load_failed.connect(self._on_load_failed)
        worker.kept.connect(self._on_model_kept)
        self.chat.busy_changed.connect(self._on_busy)
        self.voice.reply_started.connect(self.chat.show_spoken)
        self.voice.listening_changed.connect(self.voice_action.setChecked)
        self.voice.settings_changed.connect(self._on_voice_settings)
        self.stop_action.triggered.connect(self.voice.interrupt)
        self.chat.reply_finished.connect(self.status.reply_stats)
        self.chat.conversation_created.connect(self._on_created)
        self.chat.history_changed.connect(self._refresh_sidebar)
        self.chat.notice.connect(self._notice)
        self.chat.search_library_changed.connect(self.set_search_library)
        self.chat.images_given.connect(lambda paths: self._image_given(paths[0]))
        if self.indexer is not None:
            self.indexer.progress.connect(self._on_index_progress)
            self.indexer.synced.connect(lambda _report: self.statusBar().clearMessage())
            self.indexer.failed.connect(self._on_index_failed)
        self.sidebar.notice.connect(self._notice)
        self.sidebar.conversation_selected.connect(self._open)
        self.sidebar.new_chat_requested.connect(self.new_chat)
        self.sidebar.conversation_deleted.connect(self._on_deleted)
        self.sidebar.conversation_renamed.connect(lambda _cid: self._update_title())
        self.studio.failed.connect(lambda text: self._notice("sketch", text, "error"))
        self.studio.imageOpened.connect(lambda _path: self.banner.clear("sketch"))

    # --- model --------------------------------------------------------------------------------
    def start(self) -> None:
        """Show the window first (with the draft left unsent last time), then load the model."""
        self.show()
        state = self.remembered
        if state.draft:
            cid = state.draft_conversation
            if cid is not None and cid in self.sidebar.ids():
                self._open(cid)
                self.sidebar.set_current(cid)
            self.chat.composer.set_text(state.draft)
        self.chat.composer.focus()
        self.load_model()
        if self.indexer is not None:  # catch up with changes made while SeeSay was closed
            QTimer.singleShot(0, self._sync_library_at_start)

    @Slot()
    def load_model(self) -> None:
        self.banner.clear("model")
        self.status.loading(0.0)
        self.chat.view.set_empty_text(
            "Loading model… 0%",
            "You can start typing: your message will be answered as soon as the model is ready.",
        )
        self._loading = self.settings
        self.host.load(self.settings)

    @Slot(float, str)
    def _on_progress(self, fraction: float, message: str) -> None:
        if self.host.state != "loading":
            return
        self.status.loading(fraction, message)
        self.chat.view.set_empty_text(f"Loading model… {round(fraction * 100)}%", message or "")

    @Slot(str, str)
    def _on_ready(self, model_name: str, device: str) -> None:
        self._loaded = self._loading
        self._show_ready(model_name, device)

    def _show_ready(self, model_name: str, device: str) -> None:
        self.status.ready(model_name, device)
        self.banner.clear("model")
        self.chat.view.set_empty_text(
            "How can I help?",
            f"{model_name} runs on this computer ({device}); nothing leaves it. "
            "Enter sends, Shift+Enter adds a line.",
        )

    @Slot(str, str, str)
    def _on_model_kept(self, message: str, model_name: str, device: str) -> None:
        """The new model failed to load; the one in use stays, and so do its settings."""
        self._show_ready(model_name, device)
        engine_keys = {k: self._loaded.get(k) for k in keys() if k.startswith(ENGINE_SECTIONS)}
        self._apply_settings(self.settings.replace(engine_keys, source="settings"))
        try:
            persist(engine_keys)
        except (OSError, ConfigError):
            log.warning("could not restore the model settings in the file", exc_info=True)
        self.banner.show_message(
            "model",
            f"The new model could not be loaded, so SeeSay keeps using {model_name}. {message}",
            "warning",
            [("Settings…", self.open_settings)],
        )

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        self.status.failed(message)
        self.chat.view.set_empty_text(
            "The model is not loaded",
            "See the message above; fix it in Settings (Ctrl+,) and the model loads again.",
        )
        self.banner.show_message(
            "model",
            f"The model could not be loaded. {message}",
            "error",
            [("Settings…", self.open_settings), ("Retry", self.load_model)],
        )

    # --- conversations ------------------------------------------------------------------------
    @Slot()
    def new_chat(self) -> None:
        self.show_view("Chat")
        self.chat.open_conversation(None)
        self.sidebar.set_current(None)
        self.setWindowTitle("SeeSay")
        self.chat.composer.focus()

    @Slot(int)
    def _open(self, conversation_id: int) -> None:
        self.show_view("Chat")
        self.chat.open_conversation(conversation_id, self.sidebar.search.text())  # a hit's branch shown
        self._update_title()

    @Slot(int)
    def _on_created(self, conversation_id: int) -> None:
        self.sidebar.set_current(conversation_id)
        self._refresh_sidebar()
        self._update_title()

    @Slot(int)
    def _on_deleted(self, conversation_id: int) -> None:
        if conversation_id == self.chat.conversation_id:
            self.new_chat()

    @Slot()
    def _refresh_sidebar(self) -> None:
        self.sidebar.set_current(self.chat.conversation_id)
        self.sidebar.refresh()
        self._update_title()

    def _update_title(self) -> None:
        cid = self.chat.conversation_id
        titles = dict(zip(self.sidebar.ids(), self.sidebar.titles(), strict=True))
        self.setWindowTitle(f"{titles[cid]} — SeeSay" if cid in titles else "SeeSay")

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        self.stop_action.setEnabled(busy)
        self.regenerate_action.setEnabled(self.chat.can_regenerate())
        self.status.generating(busy, ready=self.host.state == "ready")

    # --- images -------------------------------------------------------------------------------
    def _engine_if_ready(self) -> Any:
        """The loaded chat engine, for the studio's optional polish pass (None until loaded)."""
        return self.host.worker.engine if self.host.state == "ready" else None

    @Slot()
    def _open_sketch(self) -> None:
        self.show_view("Sketch")
        self.studio._choose_file()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_documents(event.mimeData()):
            event.acceptProposedAction()
            return
        path, why = dropped_image(event.mimeData())
        if path is None:
            files = local_files(event.mimeData())
            if len(files) == 1 and files[0].is_file():
                why = f"SeeSay cannot open {files[0].name}: drop an image, or a document ({KINDS})."
            self._notice("sketch", why or "Only image files can be dropped on SeeSay.", "warning")
            event.ignore()
            return
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        documents = dropped_documents(event.mimeData())
        if documents:  # attached to the message being written, whichever view is showing
            event.acceptProposedAction()
            self.banner.clear("sketch")
            self.show_view("Chat")
            self.chat.attach_files(documents)
            return
        path, why = dropped_image(event.mimeData())
        if path is None:
            self._notice("sketch", why, "warning")
            event.ignore()
            return
        event.acceptProposedAction()
        self._image_given(path)

    def _image_given(self, path: Path) -> None:
        """An image dropped or pasted: answered in a conversation in progress, else a sketch."""
        self.banner.clear("sketch")
        in_conversation = self.views.currentWidget() is self.chat and self.chat.conversation_id is not None
        if in_conversation:
            self.describe_image(path)
        else:
            self.show_view("Sketch")
            self.studio.open_image(path)

    def describe_image(self, path: Path) -> None:
        """Answer "what is in this image?" in the chat with what the sketch reader finds."""
        settings = self.settings

        def work(_progress: Any) -> str:
            from seesay.chat import answer_image

            return answer_image(settings, path).text().strip()

        task = BackgroundTask(work)
        task.setAutoDelete(False)
        self._tasks.add(task)
        self.statusBar().showMessage(f"Looking at {path.name}…")

        def done(answer: str) -> None:
            self._tasks.discard(task)
            self.statusBar().clearMessage()
            prompt = f"What is in this image? 📎 {path.name}"
            if not self.chat.add_exchange(prompt, answer, {"image": str(path), "source": "image"}):
                self._notice("sketch", "Wait for the reply to finish, then drop the image again.", "warning")

        def failed(message: str) -> None:
            self._tasks.discard(task)
            self.statusBar().clearMessage()
            self._notice("sketch", message, "error")

        task.signals.done.connect(done)
        task.signals.failed.connect(failed)
        QThreadPool.globalInstance().start(task)

    # --- documents ----------------------------------------------------------------------------
    @Slot()
    def _attach_documents(self) -> None:
        self.show_view("Chat")
        self.chat.attachments.choose()

    @Slot()
    def open_library(self) -> LibraryDialog | None:
        """Non-modal: indexing goes on, and so does the chat, while it is open."""
        if self.indexer is None:
            return None
        if self._library_dialog is not None and self._library_dialog.isVisible():
            self._library_dialog.raise_()
            return self._library_dialog
        dialog = LibraryDialog(self.indexer, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda: setattr(self, "_library_dialog", None))
        dialog.show()
        self._library_dialog = dialog
        return dialog

    def _sync_library_at_start(self) -> None:
        if self.indexer is not None and self.indexer.library.folders():
            self.indexer.sync()

    @Slot(int, int, str)
    def _on_index_progress(self, done: int, total: int, path: str) -> None:
        if path:
            self.statusBar().showMessage(f"Reading documents: {done + 1} of {total}, {Path(path).name}")

    @Slot(str)
    def _on_index_failed(self, message: str) -> None:
        self.statusBar().clearMessage()
        self._notice("library", message, "error")

    @Slot(bool)
    def set_search_library(self, on: bool) -> None:
        """The "Search my documents" switch (chat button, menu or Settings): saved like any setting."""
        self.search_docs_action.setChecked(on)
        self.chat.set_search_library(on)
        if on == self.settings.docs.search_library:
            return
        self._apply_settings(self.settings.replace({"docs.search_library": on}, source="settings"))
        try:
            persist({"docs.search_library": on})
        except (OSError, ConfigError) as exc:
            self._notice("config", f"Settings could not be saved: {exc}", "error")

    # --- settings -----------------------------------------------------------------------------
    @Slot()
    def open_settings(self) -> SettingsDialog:
        """Non-blocking (``open``), so the chat keeps streaming behind the dialog."""
        if self._settings_dialog is not None and self._settings_dialog.isVisible():
            self._settings_dialog.raise_()
            return self._settings_dialog
        dialog = SettingsDialog(self.settings, self)
        dialog.finished.connect(lambda code: self._settings_done(dialog, code))
        dialog.open()
        self._settings_dialog = dialog
        return dialog

    def _settings_done(self, dialog: SettingsDialog, code: int) -> None:
        new = dialog.result_settings
        self._settings_dialog = None
        dialog.deleteLater()
        if code != SettingsDialog.DialogCode.Accepted or new is None:
            return
        changed = {k: new.get(k) for k in keys() if new.get(k) != self.settings.get(k)}
        if not changed:
            return
        old = self.settings
        self._apply_settings(new)
        self.voice.sync_settings()
        if old.appearance.theme != new.appearance.theme:
            self._apply_theme(new.appearance.theme)
            for name, action in self.theme_actions.items():
                action.setChecked(name == new.appearance.theme)
        try:
            persist(changed)
            self.banner.clear("config")
        except (OSError, ConfigError) as exc:
            self._notice("config", f"Settings could not be saved: {exc}", "error")
        if needs_reload(old, new) or self.host.state == "failed":
            self.load_model()

    # --- layout and lifetime ------------------------------------------------------------------
    @Slot()
    def toggle_sidebar(self) -> None:
        self.sidebar.setVisible(not self.sidebar.isVisible())
        self.sidebar_action.setChecked(self.sidebar.isVisible())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        width = 210 if self.width() < NARROW_PX else 260
        if width != self._sidebar_width or event.oldSize().width() < 0:
            self._sidebar_width = width
            self.splitter.setSizes([width, max(1, self.width() - width)])
        if self.width() < COLLAPSE_PX and self.sidebar.isVisible() and event.oldSize().width() >= COLLAPSE_PX:
            self.toggle_sidebar()

    @Slot(str, str, str)
    def _notice(self, key: str, text: str, level: str) -> None:
        actions = [("Settings…", self.open_settings)] if key in ("config", "model") else []
        self.banner.show_message(key, text, level, actions)

    @Slot()
    def _toggle_voice(self) -> None:
        self.show_view("Chat")
        self.voice.toggle_listening()
        self.voice_action.setChecked(self.voice.mic_button.isChecked())

    @Slot(object)
    def _on_voice_settings(self, changes: dict[str, Any]) -> None:
        """The voice bar saved these itself; keep the window's copy (and the Settings dialog) in step."""
        self._apply_settings(self.settings.replace(changes, source="voice"))

    def set_theme(self, mode: str) -> None:
        """The View menu's switch: saved like any setting."""
        for name, action in self.theme_actions.items():
            action.setChecked(name == mode)
        if mode == self.settings.appearance.theme:
            return
        self._apply_settings(self.settings.replace({"appearance.theme": mode}, source="settings"))
        self._apply_theme(mode)
        try:
            persist({"appearance.theme": mode})
        except (OSError, ConfigError) as exc:
            self._notice("config", f"Settings could not be saved: {exc}", "error")

    def _apply_settings(self, new: Settings) -> None:
        """The one place the window's parts get new settings (the voice bar reads the window's)."""
        if new.tools != self.settings.tools:
            self.chat.tools_changed()
        self.settings = self.chat.settings = self.chat.session.settings = self.studio.settings = new
        self.chat.set_search_library(new.docs.search_library)
        self.search_docs_action.setChecked(new.docs.search_library)

    def closeEvent(self, event: QCloseEvent) -> None:
        window_state.save(
            window_state.WindowState(
                geometry=bytes(self.saveGeometry().toBase64().data()).decode(),
                draft=self.chat.composer.text(),
                draft_conversation=self.chat.conversation_id,
                voice_collapsed=self.voice.collapsed,
                sidebar_visible=self.sidebar.isVisible(),
            )
        )
        self.voice.shutdown()  # frees the microphone and speaker; the models go with the process
        self.chat.reader.stop()  # a message being read aloud falls silent with the window
        self.chat.stop()
        self.hide()  # gone at once, even if a model load must finish before the thread can end
        self.host.shutdown()  # waits for the token in hand (or a load in progress) to end
        self.chat.close_tools()  # MCP servers' processes end with the window
        self.chat.attachments.cancel()  # files being read stop before the history closes
        if self.indexer is not None:
            self.indexer.shutdown()  # cancels at the next file or batch of passages
        if self.store is not None:
            self.store.close()
        super().closeEvent(event)


def dropped_documents(mime: QMimeData) -> list[Path]:
    """The documents a drag carries (files SeeSay reads as text); images are not among them."""
    return [p for p in local_files(mime) if is_document(p) and not p.is_dir()]
