"""The voice loop behind the window: model loading, the loop's threads, and the engine bridge.

The chat and the voice share one engine, one conversation and one history. The voice
loop does not generate text itself: each spoken prompt becomes a :class:`ReplyRequest`
on the window's :class:`EngineHost` thread (the same queue typed messages use), so the
model is loaded once, replies never run two at a time, and the prompt and reply are
stored in the chat's current conversation by the chat's own :class:`ChatSession`. The
engine thread's deltas are forwarded to the voice thread through a queue
(:class:`EngineReplyStream`), which looks to the loop like any engine stream.

Everything here runs off the GUI thread; results reach widgets only through the
signals of :class:`VoiceController`, which Qt queues to the GUI thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal

from seesay.app.workers import EngineHost, ReplyRequest
from seesay.audio import SAMPLE_RATE
from seesay.chat import ChatSession
from seesay.config import Settings
from seesay.errors import EngineError, SeeSayError

log = logging.getLogger(__name__)

_END = object()


class EngineReplyStream:
    """One reply produced on the engine thread, read as an iterator on the voice thread.

    ``cancel()`` also ends the iteration at once, so a barge-in never waits for the
    engine thread (which may be busy loading a model with the request still queued).
    """

    def __init__(self, request: ReplyRequest) -> None:
        self.request = request
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.status = ""
        self.error = ""

    def put(self, delta: str) -> None:
        self._queue.put(delta)

    def end(self, status: str, error: str = "") -> None:
        self.status, self.error = status, error
        self._queue.put(_END)

    def cancel(self) -> None:
        self.request.cancel()
        self._queue.put(_END)

    @property
    def cancelled(self) -> bool:
        return self.request.cancelled or self.status in ("interrupted", "skipped")

    def __iter__(self) -> Iterator[str]:
        while True:
            item = self._queue.get()
            if item is _END:
                break
            yield item
        if self.error and not self.request.cancelled:
            raise EngineError(self.error)


class EngineBridge:
    """Routes the engine worker's signals for voice requests to their streams.

    Connected with ``DirectConnection`` so the routing runs on the engine thread itself:
    the deltas reach the voice thread without a detour through the GUI's event loop
    (which a busy window would slow down).
    """

    def __init__(self, host: EngineHost) -> None:
        self.host = host
        self._streams: dict[int, EngineReplyStream] = {}
        self._lock = threading.Lock()
        direct = Qt.ConnectionType.DirectConnection
        worker = host.worker
        worker.delta.connect(self._on_delta, direct)
        worker.finished.connect(self._on_finished, direct)
        worker.failed.connect(self._on_failed, direct)

    def open(self, request: ReplyRequest) -> EngineReplyStream:
        stream = EngineReplyStream(request)
        with self._lock:
            self._streams[request.id] = stream
        return stream

    def _get(self, request_id: int, pop: bool = False) -> EngineReplyStream | None:
        with self._lock:
            return self._streams.pop(request_id, None) if pop else self._streams.get(request_id)

    def _on_delta(self, request_id: int, text: str) -> None:
        stream = self._get(request_id)
        if stream is not None:
            stream.put(text)

    def _on_finished(self, request_id: int, info: dict[str, Any]) -> None:
        stream = self._get(request_id, pop=True)
        if stream is not None:
            stream.end(str(info.get("status", "complete")))

    def _on_failed(self, request_id: int, message: str, _started: bool) -> None:
        stream = self._get(request_id, pop=True)
        if stream is not None:
            stream.end("error", message)


class EngineSession:
    """What :class:`seesay.audio.conversation.VoiceLoop` calls ``session``: ``send(text)``
    queues a reply on the window's engine thread in the chat's current conversation."""

    def __init__(
        self,
        host: EngineHost,
        session: Callable[[], ChatSession],
        settings: Callable[[], Settings],
        on_request: Callable[[ReplyRequest, str], None],
    ) -> None:
        self.host = host
        self.session = session
        self.settings = settings
        self.on_request = on_request
        self.bridge = EngineBridge(host)

    def send(self, prompt: str, params: Any = None, source: str = "voice") -> EngineReplyStream:
        if self.host.state == "failed":
            raise EngineError(f"{self.host.error} Fix the model in Settings, then talk again.")
        request = ReplyRequest(self.session(), self.settings(), prompt=prompt, source="voice")
        stream = self.bridge.open(request)
        self.on_request(request, prompt)  # queued to the GUI before the engine can answer
        self.host.generate(request)
        return stream


class VoiceModels:
    """Whisper, Piper and Silero, loaded once and kept warm between listening sessions.

    Loading costs seconds and the first inference of each model costs more than later
    ones (allocations, ONNX graph optimisation), so both happen before the first turn,
    not during it.
    """

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self.transcriber: Any = None
        self.synthesizer: Any = None
        self._lock = threading.Lock()

    def get(self, settings: Settings) -> tuple[Any, Any]:
        from seesay.audio.stt import create_transcriber
        from seesay.audio.tts import create_synthesizer

        v = settings.voice
        key = (v.stt_backend, v.stt_model, v.stt_device, v.language, v.tts_voice)
        with self._lock:
            if key != self._key:
                transcriber, synthesizer = create_transcriber(v), create_synthesizer(v)
                transcriber.load()  # type: ignore[attr-defined]
                synthesizer.load()  # type: ignore[attr-defined]
                warm_up(transcriber, synthesizer)
                self.transcriber, self.synthesizer, self._key = transcriber, synthesizer, key
            speed = getattr(self.synthesizer, "speed", None)
            if speed is not None:
                self.synthesizer.speed = v.tts_speed  # the speed control applies at the next sentence
            return self.transcriber, self.synthesizer


def warm_up(transcriber: Any, synthesizer: Any) -> None:
    """One throwaway inference each, so the first real turn runs at steady-state speed."""
    rng = np.random.default_rng(0)
    try:
        transcriber.transcribe((rng.standard_normal(SAMPLE_RATE) * 0.01).astype(np.float32))
        list(synthesizer.stream("Ready."))
    except SeeSayError:
        log.debug("voice warm-up failed", exc_info=True)


class VoiceController(QObject):
    """Starts and stops the :class:`VoiceLoop`; its signals carry everything the panel shows.

    Signals are emitted from the loop's threads; their receivers live on the GUI thread,
    so Qt queues each call there.
    """

    state_changed = Signal(str)
    level = Signal(float)
    user_said = Signal(str)
    reply_delta = Signal(str)
    reply_finished = Signal()
    error = Signal(str)
    running_changed = Signal(bool)
    reply_started = Signal(object, str)  # ReplyRequest, prompt: for the chat view

    def __init__(
        self,
        host: EngineHost,
        session: Callable[[], ChatSession],
        settings: Callable[[], Settings],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.engine = EngineSession(host, session, settings, self.reply_started.emit)
        self.models = VoiceModels()
        self.loop: Any = None
        self._starting: threading.Thread | None = None
        self._generation = 0  # bumped by stop(): a start still loading then gives up
        self._held = threading.Event()  # the push-to-talk key is down
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self.loop is not None

    @property
    def starting(self) -> bool:
        return self._starting is not None and self._starting.is_alive()

    def start(self, push_to_talk: bool = False) -> None:
        """Load what is needed on a side thread, then listen; no-op when already on."""
        if self.loop is not None:
            self.loop.push_to_talk = push_to_talk
            self.state_changed.emit(str(self.loop.state))
            return
        if self.starting:
            return
        self.state_changed.emit("loading")
        generation = self._generation
        self._starting = threading.Thread(
            target=self._start, args=(generation, push_to_talk), name="seesay-voice-start", daemon=True
        )
        self._starting.start()

    def _start(self, generation: int, push_to_talk: bool) -> None:
        from seesay.audio.capture import Capture
        from seesay.audio.conversation import VoiceCallbacks, VoiceLoop
        from seesay.audio.playback import Player
        from seesay.audio.vad import Endpointer, SileroVAD, config_from

        settings = self.settings()
        v = settings.voice
        try:
            transcriber, synthesizer = self.models.get(settings)
            endpointer = Endpointer(SileroVAD(), config_from(v))
            capture, player = Capture(v.input_device or None), Player(v.output_device or None)
            callbacks = VoiceCallbacks(
                state=lambda s: self.state_changed.emit(str(s)),
                level=self.level.emit,
                transcript=self.user_said.emit,
                reply_delta=self.reply_delta.emit,
                reply_done=lambda _r: self.reply_finished.emit(),
                error=self._on_error,
            )
            loop = VoiceLoop(
                self.engine,
                transcriber,
                synthesizer,
                endpointer,
                capture,
                player,
                headset=v.headset,
                push_to_talk=push_to_talk,
                callbacks=callbacks,
            )
            with self._lock:
                if generation != self._generation:
                    return  # stopped while loading
                loop.start()
                self.loop = loop
        except SeeSayError as e:
            self.error.emit(str(e))
            self.state_changed.emit("idle")
            return
        except Exception as e:  # a broken model package or sound system: say so, keep the app
            log.exception("voice could not start")
            self.error.emit(f"Voice could not start: {e}")
            self.state_changed.emit("idle")
            return
        self.running_changed.emit(True)
        if self._held.is_set():  # the talk key went down while the models were loading
            loop.press()

    def _on_error(self, error: SeeSayError) -> None:
        self.error.emit(str(error))
        loop = self.loop
        thread = getattr(loop, "_thread", None)
        if thread is not None and thread is threading.current_thread():
            # Reported from the loop thread: if the loop is ending (the mic was unplugged),
            # release the devices so the mic button works again.
            threading.Thread(
                target=self._stop_if_dead, args=(loop, thread), name="seesay-voice-stop", daemon=True
            ).start()

    def _stop_if_dead(self, loop: Any, thread: threading.Thread) -> None:
        thread.join(2.0)
        if not thread.is_alive() and self.loop is loop:
            self.stop()

    def stop(self) -> None:
        """Stop listening and speaking; the models stay loaded for the next start."""
        with self._lock:
            self._generation += 1
            loop, self.loop = self.loop, None
        if loop is not None:
            loop.stop()
            self.running_changed.emit(False)
        self.state_changed.emit("idle")

    def interrupt(self) -> None:
        """Stop the reply being spoken; keep listening."""
        if self.loop is not None:
            self.loop.interrupt()

    def press(self) -> None:
        """Talk key down: with voice off, listening starts in push-to-talk mode first."""
        self._held.set()
        if self.loop is not None:
            self.loop.press()
        else:
            self.start(push_to_talk=True)

    def release(self) -> None:
        self._held.clear()
        if self.loop is not None:
            self.loop.release()

    def set_headset(self, on: bool) -> None:
        if self.loop is not None:
            self.loop.headset = on

    def set_speed(self, speed: float) -> None:
        synthesizer = self.models.synthesizer
        if synthesizer is not None and hasattr(synthesizer, "speed"):
            synthesizer.speed = speed
