"""Model loading and generation off the UI thread: one engine thread, driven by signals.

Creating and loading the engine runs on a QThread owned by :class:`EngineHost`, and
so does the start of every reply: Qt's event queue on that thread is the scheduler,
so a message sent while the model loads is queued behind the load and answered as
soon as it finishes. Each reply then streams on a thread of its own, because the
engine generates several at once (a typed chat, a spoken turn and a sketch revision
do not wait for each other); a reload requested from Settings waits for the replies
in progress. The UI thread only emits requests and receives results.

Stopping never waits for that queue: :meth:`ReplyRequest.cancel` is thread-safe and
reaches the stream directly (or marks a request still queued so it never starts).
"""

from __future__ import annotations

import atexit
import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThread, Signal, Slot

from seesay.chat import ChatSession, Source
from seesay.config import Settings
from seesay.errors import SeeSayError
from seesay.inference import create_engine
from seesay.inference.engine import ChatEngine, Stream, StreamStats

if TYPE_CHECKING:
    from seesay.docs.grounding import Attachment

log = logging.getLogger(__name__)

_ids = itertools.count(1)
# Engine threads still running. A QThread destroyed while it runs aborts the process, and
# a window can be garbage-collected without being closed (or closed during a load), so the
# thread objects live here until they finish, and exit waits for them.
_running: set[QThread] = set()


@atexit.register
def _wait_for_engine_threads() -> None:
    for thread in list(_running):
        thread.quit()
        thread.wait()


@dataclass(eq=False)
class ReplyRequest:
    """One reply to produce: a new prompt, or (``prompt is None``) a regenerate."""

    session: ChatSession
    settings: Settings
    prompt: str | None = None
    source: Source = "typed"
    attachments: Sequence[Attachment] = ()  # files already read (seesay.docs.grounding.attach)
    edit_of: int | None = None  # the saved prompt this one replaces, as a new branch beside it
    id: int = field(default_factory=lambda: next(_ids))
    _cancelled: threading.Event = field(default_factory=threading.Event)
    _stream: Stream | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cancel(self) -> None:
        """Stop at the next token (or never start); safe from any thread."""
        with self._lock:
            self._cancelled.set()
            if self._stream is not None:
                self._stream.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def attach(self, stream: Stream) -> None:
        with self._lock:
            self._stream = stream
            if self._cancelled.is_set():
                stream.cancel()


def stats_info(stats: StreamStats, status: str) -> dict[str, Any]:
    """The plain numbers the UI shows, so no live stats object crosses threads."""
    return {
        "status": status,
        "tokens": stats.completion_tokens,
        "prompt_tokens": stats.prompt_tokens,
        "tokens_per_s": stats.tokens_per_second,
        "ttft": stats.time_to_first_token,
        "finish_reason": stats.finish_reason,
        "trim": stats.trim.describe() if stats.trim else "",
    }


class EngineWorker(QObject):
    """Lives on the engine thread; its slots run there, its signals reach the UI queued."""

    progress = Signal(float, str)
    ready = Signal(str, str)  # model name, device
    load_failed = Signal(str)
    kept = Signal(str, str, str)  # why the new model failed; the model name and device still in use
    started = Signal(int, int)  # request id, conversation id (-1 when not saved)
    delta = Signal(int, str)
    finished = Signal(int, object)  # request id, stats_info dict
    failed = Signal(int, str, bool)  # request id, message, whether the reply had started

    def __init__(self) -> None:
        super().__init__()
        self.engine: ChatEngine | None = None
        self.load_error = "The model has not been loaded yet."
        self._replies: set[threading.Thread] = set()
        self._replies_lock = threading.Lock()

    @Slot(object)
    def load(self, settings: Settings) -> None:
        """Load the engine for ``settings``; the working one is replaced only once the new one
        has loaded, so a model that cannot load never leaves the window without one."""
        self.progress.emit(0.0, "Preparing…")
        try:
            engine = create_engine(settings)
            engine.load(lambda fraction, message: self.progress.emit(float(fraction), str(message)))
        except SeeSayError as exc:
            self._fail_load(str(exc))
            return
        except Exception as exc:  # a broken model can raise anything from deep in torch
            log.exception("model load failed")
            self._fail_load(f"The model could not be loaded ({type(exc).__name__}: {exc}).")
            return
        self.wait_for_replies()
        self._drop_engine()
        self.engine = engine
        self.ready.emit(engine.model_name, engine.device)

    @Slot(object)
    def generate(self, request: ReplyRequest) -> None:
        """Start a reply on a thread of its own (after any load queued before it)."""
        if request.cancelled:
            self.finished.emit(request.id, {"status": "skipped"})
            return
        if self.engine is None:
            self.failed.emit(request.id, self.load_error, False)
            return
        thread = threading.Thread(
            target=self._reply, args=(request, self.engine), daemon=True, name=f"seesay-reply-{request.id}"
        )
        with self._replies_lock:
            self._replies.add(thread)
        thread.start()

    def wait_for_replies(self) -> None:
        """Block until every reply in progress has ended (before the engine changes)."""
        with self._replies_lock:
            running = list(self._replies)
        for thread in running:
            thread.join()

    def _reply(self, request: ReplyRequest, engine: ChatEngine) -> None:
        try:
            self._stream_reply(request, engine)
        finally:
            with self._replies_lock:
                self._replies.discard(threading.current_thread())

    def _stream_reply(self, request: ReplyRequest, engine: ChatEngine) -> None:
        session = request.session
        session.engine, session.settings = engine, request.settings
        try:
            if request.prompt is not None and request.edit_of is not None:
                stream = session.resend(request.edit_of, request.prompt, source=request.source)
            elif request.prompt is not None:
                stream = session.send(request.prompt, source=request.source, attachments=request.attachments)
            else:
                stream = session.regenerate()
        except SeeSayError as exc:
            self.failed.emit(request.id, str(exc), False)
            return
        request.attach(stream)
        self.started.emit(request.id, session.conversation_id if session.conversation_id else -1)
        try:
            for text in stream:
                self.delta.emit(request.id, text)
        except SeeSayError as exc:
            self.failed.emit(request.id, str(exc), True)
            return
        except Exception as exc:
            log.exception("generation failed")
            self.failed.emit(request.id, f"{type(exc).__name__}: {exc}", True)
            return
        status = "interrupted" if stream.cancelled else "complete"
        info = stats_info(stream.stats, status)
        if session.sources:  # the passages this reply was given, for its list of sources
            info["sources"] = [s.to_meta() for s in session.sources]
        self.finished.emit(request.id, info)

    def _fail_load(self, message: str) -> None:
        if self.engine is not None:
            self.kept.emit(message, self.engine.model_name, self.engine.device)
            return
        self.load_error = message
        self.load_failed.emit(message)

    def _drop_engine(self) -> None:
        engine, self.engine = self.engine, None
        close = getattr(engine, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # closing a dead connection must not stop the reload
                log.warning("closing the previous engine failed", exc_info=True)


class EngineHost(QObject):
    """The UI thread's handle on the engine thread: requests go in, results come out as signals."""

    _load_requested = Signal(object)
    _generate_requested = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = "idle"  # idle → loading → ready | failed
        self.model_name = ""
        self.device = ""
        self.error = ""
        self._thread = QThread()
        self._thread.setObjectName("seesay-engine")
        _running.add(self._thread)
        self._thread.finished.connect(lambda thread=self._thread: _running.discard(thread))
        self.worker = EngineWorker()
        self.worker.moveToThread(self._thread)
        self._load_requested.connect(self.worker.load)
        self._generate_requested.connect(self.worker.generate)
        self.worker.ready.connect(self._on_ready)
        self.worker.load_failed.connect(self._on_failed)
        self.worker.kept.connect(self._on_kept)
        self._thread.start()

    def load(self, settings: Settings) -> None:
        """Create and load the engine for ``settings`` (replacing any current one)."""
        self.state, self.error = "loading", ""
        self._load_requested.emit(settings)

    def generate(self, request: ReplyRequest) -> None:
        self._generate_requested.emit(request)

    @Slot(str, str)
    def _on_ready(self, model_name: str, device: str) -> None:
        self.state, self.model_name, self.device = "ready", model_name, device

    @Slot(str, str, str)
    def _on_kept(self, _message: str, model_name: str, device: str) -> None:
        self.state, self.model_name, self.device = "ready", model_name, device

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.state, self.error = "failed", message

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """Stop the thread after the work in hand (a load cannot be interrupted); True when it ended."""
        self._thread.quit()
        done = self._thread.wait() if timeout_ms < 0 else self._thread.wait(timeout_ms)
        if done:
            self.worker.wait_for_replies()
            self.worker._drop_engine()
        return bool(done)


class TaskSignals(QObject):
    done = Signal(object)
    failed = Signal(str)
    progress = Signal(str)


class BackgroundTask(QRunnable):
    """Runs ``fn(progress)`` on a thread pool and reports through Qt signals (queued to the
    UI thread): image analysis, OCR and page generation, which must not block the window."""

    def __init__(self, fn: Callable[[Callable[[str], None]], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = TaskSignals()

    def run(self) -> None:
        try:
            result = self.fn(self.signals.progress.emit)
        except SeeSayError as e:
            self.signals.failed.emit(str(e))
        except Exception as e:  # a bug must not take the app down: show it in place
            log.exception("background task failed")
            self.signals.failed.emit(f"Something went wrong: {e}")
        else:
            self.signals.done.emit(result)
