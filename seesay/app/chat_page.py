"""The Chat view: conversation plus composer, and the send / stop / regenerate logic.

Replies are tracked by request id, not by "the current reply": after Stop, or after
switching conversations, late deltas from the engine thread still land in (or are
dropped with) the widget they belong to, so nothing is shown twice and nothing the
store saved is lost. The UI turns idle the moment Stop is pressed; the engine thread
catches up at its next token.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from seesay.app.attachments import AttachmentTray, is_document, search_toggle
from seesay.app.chat_view import COLUMN_MAX_WIDTH, ChatView
from seesay.app.composer import PLACEHOLDER, Composer
from seesay.app.message_widget import MessageWidget
from seesay.app.read_aloud import ReadAloud
from seesay.app.tool_cards import ToolBridge, ToolCard
from seesay.app.workers import EngineHost, ReplyRequest
from seesay.chat import ChatSession, to_message
from seesay.config import Settings
from seesay.docs.library import Library
from seesay.errors import StoreError
from seesay.inference.engine import Message
from seesay.store import HistoryStore, StoredMessage
from seesay.tools.runner import ToolEvent, ToolRunner
from seesay.tools.toolbox import Toolbox
from seesay.vision.images import EXTENSIONS as IMAGE_EXTENSIONS

log = logging.getLogger(__name__)

RENDER_INTERVAL_MS = 50  # ~20 Hz: smooth to the eye, cheap for the UI thread


@dataclass
class _Live:
    request: ReplyRequest
    widget: MessageWidget
    user_widget: MessageWidget | None
    parts: list[str] = field(default_factory=list)
    started: bool = False
    rendered: int = 0  # characters drawn so far

    @property
    def text(self) -> str:
        return "".join(self.parts)


class ChatPage(QWidget):
    busy_changed = Signal(bool)
    conversation_created = Signal(int)
    history_changed = Signal()
    reply_finished = Signal(object)  # stats info dict
    notice = Signal(str, str, str)  # key, text, level
    search_library_changed = Signal(bool)  # the "Search my documents" switch, flipped by the user
    images_given = Signal(list)  # images pasted or dropped on the prompt box (for the window)

    def __init__(
        self, host: EngineHost, store: HistoryStore | None, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("chatPage")
        self.host = host
        self.store = store
        self.settings = settings
        self.saving = store is not None and not store.read_only
        self.conversation_id: int | None = None
        self.tool_bridge = ToolBridge(self)
        self.tool_bridge.happened.connect(self._on_tool_event)
        self._toolbox: Toolbox | None = None
        self._toolbox_lock = threading.Lock()
        self.library = Library(store) if store is not None else None  # same database as the history
        self.session = self._new_session(None)
        self._replies: dict[int, _Live] = {}
        self._active: ReplyRequest | None = None
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_INTERVAL_MS)
        self._render_timer.timeout.connect(self._render_dirty)
        self.view = ChatView()
        self.view.edit_submitted.connect(self.resend)
        self.view.step_requested.connect(self.switch_alternative)
        self.view.speak_requested.connect(self.read_aloud)
        self.reader = ReadAloud(self)
        self.reader.speaking.connect(self._on_speaking)
        self.reader.failed.connect(lambda text: self.notice.emit("voice", text, "error"))
        self.composer = Composer()
        self.composer.setMaximumWidth(COLUMN_MAX_WIDTH - 40)
        self.composer.send_requested.connect(self.send)
        self._tools_warm = False
        self.composer.edit.textChanged.connect(self._warm_tools)
        self.composer.stop_requested.connect(self.stop)
        self.composer.regenerate_requested.connect(self.regenerate)
        self.attachments = AttachmentTray(lambda: self.library)
        self.attachments.changed.connect(self._update_send)
        self.search_docs = search_toggle()
        self.search_docs.setChecked(settings.docs.search_library)
        self.search_docs.toggled.connect(self._on_search_toggled)
        self.composer.add_parts(self.attachments, [self.attachments.attach_button, self.search_docs])
        self.composer.edit.files_given.connect(self.attach_files)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(20, 6, 20, 14)
        bottom.addStretch(1)
        bottom.addWidget(self.composer, 1000)
        bottom.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)
        worker = host.worker
        worker.started.connect(self._on_started)
        worker.delta.connect(self._on_delta)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.ready.connect(self._on_ready)

    # --- state --------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._active is not None

    @property
    def in_flight(self) -> int:
        """Replies whose results are still arriving (a stopped one counts until it ends)."""
        return len(self._replies)

    def can_regenerate(self) -> bool:
        return not self.busy and any(w.role == "user" for w in self.view.widgets())

    def _set_busy(self, request: ReplyRequest | None) -> None:
        self._active = request
        self.composer.set_streaming(request is not None)
        self.view.set_busy(request is not None)
        self.composer.set_can_regenerate(self.can_regenerate())
        self._update_send()
        self.busy_changed.emit(request is not None)

    def toolbox(self) -> Toolbox:
        """Built once, by the warm-up after the model loads or else by the first reply."""
        with self._toolbox_lock:
            if self._toolbox is None:
                self._toolbox = Toolbox.from_settings(self.settings)
            return self._toolbox

    def _warm_tools(self) -> None:
        """Builds the tools (MCP servers start) and embeds their descriptions on a thread of its
        own once the user starts typing, so the reply does not wait for them; a window used
        only for voice or sketches never loads them (80 MB)."""
        if self._tools_warm or not self.settings.tools.enabled:
            return
        self._tools_warm = True

        def warm() -> None:
            from seesay.inference.tool_calls import prepare

            try:
                prepare([t.spec() for t in self.toolbox().tools()])
            except Exception:  # the reply that needs the tools reports what is wrong
                log.warning("the tools could not be prepared ahead of time", exc_info=True)

        threading.Thread(target=warm, name="seesay-tools-warm", daemon=True).start()

    def close_tools(self) -> None:
        self.tool_bridge.deny_all()
        with self._toolbox_lock:
            box, self._toolbox = self._toolbox, None
        if box is not None:
            box.close()

    def tools_changed(self) -> None:
        """New tool settings: the next reply builds the tools anew; old MCP servers stop in the background."""
        with self._toolbox_lock:
            box, self._toolbox = self._toolbox, None
        if box is not None:
            threading.Thread(target=box.close, name="seesay-tools-close", daemon=True).start()
        self._tools_warm = False

    def _runner(self) -> ToolRunner:
        """Each conversation its own runner: "Always" holds for one conversation."""
        return ToolRunner(self.toolbox, self.tool_bridge.approve, self.tool_bridge.on_event)

    def _new_session(self, conversation_id: int | None) -> ChatSession:
        # The engine is attached by the worker for each reply (it can change on reload).
        docs = {"library": self.library, "use_library": self.search_docs_on}
        if self.saving:
            return ChatSession(None, self.settings, self.store, conversation_id, tools=self._runner(), **docs)
        earlier: list[Message] = []
        if conversation_id is not None and self.store is not None:  # read-only history: keep context
            found = (to_message(m.role, m.content, m.meta) for m in self.store.messages(conversation_id))
            earlier = [
                m for m in found if m is not None and m["role"] in ("user", "assistant") and m["content"]
            ]
        return ChatSession(None, self.settings, save=False, memory=earlier, tools=self._runner(), **docs)

    # --- documents ----------------------------------------------------------------------------
    @property
    def search_docs_on(self) -> bool:
        return self.settings.docs.search_library

    def set_search_library(self, on: bool) -> None:
        """The switch and the conversation follow the setting (changed here, in Settings or the menu)."""
        self.session.use_library = on
        if self.search_docs.isChecked() != on:
            self.search_docs.blockSignals(True)
            self.search_docs.setChecked(on)
            self.search_docs.blockSignals(False)

    def _on_search_toggled(self, on: bool) -> None:
        self.session.use_library = on
        self.search_library_changed.emit(on)

    def attach_files(self, paths: list[Any]) -> None:
        """Documents become chips on the message being written; images go to the window."""
        images = [p for p in paths if not is_document(p) and p.suffix.lower() in IMAGE_EXTENSIONS]
        documents = [p for p in paths if p not in images]
        if documents:
            self.attachments.add(documents)
        if images:
            self.images_given.emit(images)

    def _update_send(self) -> None:
        """Send waits for the attached files to be read (Stop never does)."""
        reading = [c.path.name for c in self.attachments.reading]
        blocked = bool(reading) and not self.composer.streaming
        self.composer.send_button.setEnabled(not blocked)
        if blocked:
            self.composer.send_button.setToolTip(f"Reading {', '.join(reading)}… Send waits for it")
        elif not self.composer.streaming:
            self.composer.send_button.setToolTip("Send the message (Enter)")
        count = len(self.attachments.ready())
        self.composer.edit.setPlaceholderText(
            f"Ask about the attached file{'s' if count > 1 else ''}…" if count else PLACEHOLDER
        )

    # --- conversations ------------------------------------------------------------------------
    def open_conversation(self, conversation_id: int | None, query: str = "") -> None:
        """Show a stored conversation (None: a new, empty one); a reply in progress is stopped.
        With a search ``query``, the branch holding its best match is the one shown."""
        self.stop()
        self.reader.stop()
        self._replies.clear()
        self.conversation_id = conversation_id
        self.session = self._new_session(conversation_id)
        messages = []
        found: int | None = None
        if conversation_id is not None and self.store is not None:
            try:
                found = self.store.find_message(conversation_id, query) if query.strip() else None
                if found is not None and self.saving:
                    self.store.show(found)
                messages = self.store.messages(conversation_id)
            except StoreError as exc:
                self.notice.emit("store", str(exc), "error")
        self.view.show_messages(messages, editable=self.saving)
        self.composer.set_can_regenerate(self.can_regenerate())
        if found is not None:
            QTimer.singleShot(0, lambda: self._reveal(found))

    # --- actions ------------------------------------------------------------------------------
    @Slot(str)
    def send(self, text: str) -> bool:
        """Show the prompt and queue its reply; False (and nothing changes) when it cannot go."""
        if not text.strip() or self.busy or self.attachments.busy:
            return False
        if self.host.state == "failed":
            self.notice.emit(
                "model", f"{self.host.error} Fix it in Settings (Ctrl+,), then try again.", "error"
            )
            return False
        self.composer.set_text("")
        attachments = self.attachments.take()
        meta = {"attachments": [a.to_meta() for a in attachments]} if attachments else None
        user = self.view.add("user", text, meta=meta)
        reply = self.view.add("assistant", "", self._initial_status())
        request = ReplyRequest(self.session, self.settings, prompt=text, attachments=attachments)
        self._start(request, reply, user)
        return True

    @Slot(object, str)
    def show_spoken(self, request: ReplyRequest, prompt: str) -> None:
        """A prompt the voice loop heard and already queued on the engine thread: shown and
        streamed like a typed one (the voice speaks the reply, this view writes it)."""
        user = self.view.add("user", prompt, meta={"source": "voice"})
        reply = self.view.add("assistant", "", self._initial_status())
        self._replies[request.id] = _Live(request, reply, user)
        self._set_busy(request)
        self.view.scroll_to_bottom()

    def add_exchange(self, prompt: str, answer: str, meta: dict[str, Any]) -> bool:
        """A question answered without the chat model (what the sketch reader saw in a dropped
        image), recorded in the conversation like any other turn; False while a reply streams."""
        if self.busy:
            return False
        session = self.session
        created = session.conversation_id is None
        session.record(prompt, answer, meta)
        if session.conversation_id is not None:
            self.conversation_id = session.conversation_id
            if created:
                self.conversation_created.emit(self.conversation_id)
        self.view.add("user", prompt, meta=meta)
        self.view.add("assistant", answer, meta=meta)
        self.view.scroll_to_bottom()
        self.composer.set_can_regenerate(self.can_regenerate())
        self._sync_branches()
        self.history_changed.emit()
        return True

    @Slot()
    def regenerate(self) -> None:
        if not self.can_regenerate() or self.host.state == "failed":
            return
        items = self.view.items()
        last_user = max(i for i, w in enumerate(items) if isinstance(w, MessageWidget) and w.role == "user")
        for widget in items[last_user + 1 :]:
            self.view.remove(widget)
        reply = self.view.add("assistant", "", self._initial_status())
        self._start(ReplyRequest(self.session, self.settings, prompt=None), reply, None)

    @Slot()
    def stop(self) -> None:
        request = self._active
        if request is None:
            return
        request.cancel()
        self.tool_bridge.deny_all()
        live = self._replies.get(request.id)
        if live is not None:
            if live.started:
                self._render(live)
                live.widget.set_status("interrupted")
            else:  # still queued behind the model load: take the message back
                self._unsend(live)
        self._set_busy(None)

    def _initial_status(self) -> str:
        return "waiting" if self.host.state == "loading" else "streaming"

    def _start(self, request: ReplyRequest, reply: MessageWidget, user: MessageWidget | None) -> None:
        self._replies[request.id] = _Live(request, reply, user)
        self._set_busy(request)
        self.view.scroll_to_bottom()
        self.host.generate(request)

    def _unsend(self, live: _Live) -> None:
        """Remove a reply that never started and give its prompt back to the composer."""
        self._replies.pop(live.request.id, None)
        self.view.remove(live.widget)
        if live.user_widget is not None:
            self.view.remove(live.user_widget)
            if not self.composer.text().strip() and live.request.prompt:
                self.composer.set_text(live.request.prompt)
            if live.request.attachments:
                self.attachments.restore(live.request.attachments)

    # --- tool calls -----------------------------------------------------------------------------
    @Slot(object)
    def _on_tool_event(self, event: ToolEvent) -> None:
        card = next((c for c in self.view.cards() if c.call_id == event.call_id), None)
        if card is None:
            live = self._replies.get(self._active.id) if self._active is not None else None
            card = ToolCard(event.call_id, event.name, dict(event.arguments))
            card.decided.connect(self.tool_bridge.answer)
            self.view.add_card(card, before=live.widget if live is not None else None)
        card.update_from(event)
        if event.state == "asking":
            self.view.scroll_to_bottom()
            self.notice.emit("tools", f"SeeSay asks before running {event.name}.", "info")

    # --- engine thread results ----------------------------------------------------------------
    @Slot(str, str)
    def _on_ready(self, _model: str, _device: str) -> None:
        for live in self._replies.values():
            if live.widget.status == "waiting":
                live.widget.set_status("streaming")

    @Slot(int, int)
    def _on_started(self, request_id: int, conversation_id: int) -> None:
        live = self._replies.get(request_id)
        if live is None:
            return
        live.started = True
        if live.widget.status == "waiting":
            live.widget.set_status("streaming")
        if conversation_id > 0 and self.conversation_id != conversation_id:
            self.conversation_id = conversation_id
            self.conversation_created.emit(conversation_id)

    @Slot(int, str)
    def _on_delta(self, request_id: int, text: str) -> None:
        live = self._replies.get(request_id)
        if live is None:
            return
        live.parts.append(text)
        if not self._render_timer.isActive():
            self._render_timer.start()

    @Slot(int, object)
    def _on_finished(self, request_id: int, info: dict[str, Any]) -> None:
        live = self._replies.pop(request_id, None)
        if live is not None:
            if info.get("status") == "skipped":
                self._unsend(live)
            else:
                self._render(live)
                live.widget.set_status(info["status"])
                live.widget.set_meta({"model": self.host.model_name, **info})
                self.reply_finished.emit(info)
        self._finish(request_id)

    @Slot(int, str, bool)
    def _on_failed(self, request_id: int, message: str, started: bool) -> None:
        live = self._replies.pop(request_id, None)
        if live is not None:
            if started:
                self._render(live)
                live.widget.set_status("error", message)
            else:
                self._unsend(live)
                self.notice.emit("model" if self.host.state == "failed" else "reply", message, "error")
        self._finish(request_id)

    def _finish(self, request_id: int) -> None:
        if self._active is not None and self._active.id == request_id:
            self._set_busy(None)
        else:
            self.composer.set_can_regenerate(self.can_regenerate())
        self._sync_branches()
        self.history_changed.emit()

    # --- branches: edit and resend, alternatives, copy and read aloud ---------------------------
    @Slot(object, str)
    def resend(self, widget: MessageWidget, text: str) -> bool:
        """Send an edited prompt as a new branch beside ``widget``'s; the old branch is kept."""
        message_id = widget.action_row.message_id
        if self.busy or not self.saving or message_id is None or not text.strip():
            return False
        if widget not in self.view.widgets():
            return False
        if self.host.state == "failed":
            self.notice.emit(
                "model", f"{self.host.error} Fix it in Settings (Ctrl+,), then try again.", "error"
            )
            return False
        items = self.view.items()
        for item in items[items.index(widget) :]:
            self.view.remove(item)
        edited = next((m for m in self._stored() if m.id == message_id), None)
        user = self.view.add("user", text, meta=edited.meta if edited is not None else None)
        reply = self.view.add("assistant", "", self._initial_status())
        self._start(ReplyRequest(self.session, self.settings, prompt=text, edit_of=message_id), reply, user)
        return True

    @Slot(object, int)
    def switch_alternative(self, widget: MessageWidget, step: int) -> None:
        """Show the previous or next alternative; the conversation continues from the one shown."""
        actions = widget.action_row
        index = actions.index + step
        if self.busy or self.in_flight or not self.saving or actions.index < 0:
            return
        if not 0 <= index < len(actions.alternatives):
            return
        try:
            self.session.show(actions.alternatives[index])
        except StoreError as exc:
            self.notice.emit("store", str(exc), "error")
            return
        position = self.view.verticalScrollBar().value()
        self._show_stored()
        self.view.verticalScrollBar().setValue(position)  # stay where the user was reading
        self.composer.set_can_regenerate(self.can_regenerate())

    @Slot(object)
    def read_aloud(self, widget: MessageWidget) -> None:
        """Read a message with the voice (a second click stops it)."""
        self.reader.toggle(widget, widget.text, self.settings)

    def _reveal(self, message_id: int) -> None:
        """Scroll a search hit into view (once the widgets have their sizes)."""
        target = next((w for w in self.view.widgets() if w.action_row.message_id == message_id), None)
        if target is not None:
            self.view.ensureWidgetVisible(target, 0, 40)

    def _on_speaking(self, widget: object, speaking: bool) -> None:
        if isinstance(widget, MessageWidget) and widget in self.view.widgets():
            widget.action_row.set_speaking(speaking)

    def _stored(self) -> list[StoredMessage]:
        if self.conversation_id is None or self.store is None:
            return []
        try:
            return self.store.messages(self.conversation_id)
        except StoreError as exc:
            self.notice.emit("store", str(exc), "error")
            return []

    def _show_stored(self) -> None:
        self.reader.stop()
        self.view.show_messages(self._stored(), editable=self.saving)

    def _sync_branches(self) -> None:
        """Once nothing is in flight, the widgets learn their saved ids and alternatives (a new
        reply is the newest alternative); if they no longer match the saved path (a reply
        taken back), the saved path is shown again."""
        if self.busy or self.in_flight or self.conversation_id is None or self.store is None:
            return
        try:
            messages = self.store.messages(self.conversation_id)
        except StoreError as exc:
            log.warning("could not read the conversation back: %s", exc)
            return
        if not self.view.set_branches(messages, editable=self.saving):
            position = self.view.verticalScrollBar().value()
            self.reader.stop()
            self.view.show_messages(messages, editable=self.saving)
            self.view.verticalScrollBar().setValue(position)

    # --- throttled rendering ------------------------------------------------------------------
    def _render_dirty(self) -> None:
        started = time.perf_counter()
        for live in list(self._replies.values()):
            self._render(live)
        # A long reply costs more to re-render: slow down rather than stutter.
        cost_ms = (time.perf_counter() - started) * 1000
        self._render_timer.setInterval(int(min(250, max(RENDER_INTERVAL_MS, 3 * cost_ms))))

    def _render(self, live: _Live) -> None:
        text = live.text
        if len(text) != live.rendered:
            live.rendered = len(text)
            live.widget.set_text(text)
