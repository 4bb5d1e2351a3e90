"""The live voice loop: listen, understand, answer aloud, and yield when interrupted.

One loop thread reads microphone frames (level meter, endpointing, barge-in) and runs
STT on each utterance; each reply runs on its own thread through :class:`ReplySpeaker`
into the always-open :class:`Player`. State changes, levels, transcripts and reply text
go out through plain callbacks (the GUI turns them into Qt signals, the CLI prints).

Barge-in: user speech while a reply plays cancels the LLM stream (``ChatSession``
saves the partial reply as "interrupted") and silences the speaker. Through loudspeakers
the mic hears our own voice, so it is gated while speaking unless ``headset`` is on;
then only push-to-talk or :meth:`VoiceLoop.interrupt` can cut in.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seesay.audio.reply import ReplyResult, ReplySpeaker
from seesay.audio.transcript import Transcriber
from seesay.audio.tts import Synthesizer
from seesay.audio.vad import Endpointer
from seesay.errors import AudioError, SeeSayError

log = logging.getLogger(__name__)

ECHO_TAIL_S = 0.25  # after speaking, the room still rings: keep the gate closed a little longer


class State(enum.StrEnum):
    IDLE = "idle"
    LISTENING = "listening"
    HEARING = "hearing you"
    THINKING = "thinking"
    SPEAKING = "speaking"


@dataclass
class VoiceCallbacks:
    """All optional; called from the loop's threads (the GUI marshals them to its own)."""

    state: Callable[[State], None] | None = None
    level: Callable[[float], None] | None = None
    transcript: Callable[[str], None] | None = None
    reply_delta: Callable[[str], None] | None = None
    reply_done: Callable[[ReplyResult], None] | None = None
    turn: Callable[[TurnTiming], None] | None = None
    error: Callable[[SeeSayError], None] | None = None


@dataclass
class TurnTiming:
    """Seconds from the end of the user's speech to the first reply sample heard."""

    endpointing_s: float = 0.0
    stt_s: float = 0.0
    llm_first_sentence_s: float | None = None
    tts_first_sentence_s: float | None = None
    playback_s: float | None = None  # queued → audible (device buffer)
    total_s: float | None = None
    transcript: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def level_of(frame: np.ndarray) -> float:
    """0..1 meter value: RMS in dBFS mapped from -60..0 dB."""
    rms = float(np.sqrt(np.mean(np.square(frame)))) if len(frame) else 0.0
    db = 20 * np.log10(max(rms, 1e-6))
    return float(min(1.0, max(0.0, (db + 60) / 60)))


class VoiceLoop:
    """Hands-free or push-to-talk conversation over a :class:`seesay.chat.ChatSession`."""

    def __init__(
        self,
        session: Any,
        transcriber: Transcriber,
        synthesizer: Synthesizer,
        endpointer: Endpointer,
        capture: Any,
        player: Any,
        *,
        headset: bool = False,
        push_to_talk: bool = False,
        callbacks: VoiceCallbacks | None = None,
    ) -> None:
        self.session = session
        self.transcriber = transcriber
        self.synthesizer = synthesizer
        self.endpointer = endpointer
        self.capture = capture
        self.player = player
        self.headset = headset
        self.push_to_talk = push_to_talk
        self.cb = callbacks or VoiceCallbacks()
        self.state = State.IDLE
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reply: ReplySpeaker | None = None
        self._reply_thread: threading.Thread | None = None
        self._reply_done_at = 0.0
        self._ptt = threading.Event()
        self._ptt_frames: list[np.ndarray] = []
        self.turns: list[TurnTiming] = []

    # -- control (any thread) --------------------------------------------------------------------
    def start(self) -> VoiceLoop:
        self.player.start()
        self.capture.start()
        self._thread = threading.Thread(target=self._run, name="seesay-voice", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.interrupt()
        if self._thread is not None:
            self._thread.join(timeout)
        self.capture.stop()
        self.player.close()
        self._set_state(State.IDLE)

    def interrupt(self) -> None:
        """Stop the reply being spoken (and written) now."""
        reply = self._reply
        if reply is not None:
            reply.cancel()
        self.player.stop()
        thread = self._reply_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)

    def press(self) -> None:
        """Push-to-talk key down: interrupts any reply and starts collecting speech."""
        self.interrupt()
        self._ptt_frames = []
        self._ptt.set()
        self._set_state(State.HEARING)

    def release(self) -> None:
        self._ptt.clear()

    @property
    def speaking(self) -> bool:
        return self._reply_thread is not None and self._reply_thread.is_alive()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no reply is running (tests, the CLI)."""
        deadline = time.monotonic() + timeout
        while self.speaking and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self.speaking

    # -- loop thread -----------------------------------------------------------------------------
    def _set_state(self, state: State) -> None:
        if state != self.state:
            self.state = state
            log.debug("voice state: %s", state)
            if self.cb.state is not None:
                self.cb.state(state)

    def _emit_error(self, error: SeeSayError) -> None:
        log.error("voice: %s", error)
        if self.cb.error is not None:
            self.cb.error(error)

    def _run(self) -> None:
        self._set_state(State.LISTENING)
        was_pressed = False
        try:
            while not self._stop.is_set():
                frame = self.capture.read(timeout=0.2)
                if frame is None:
                    continue
                if self.cb.level is not None:
                    self.cb.level(level_of(frame))
                pressed = self._ptt.is_set()
                # push-to-talk also works in hands-free mode: holding the key overrides the VAD
                if self.push_to_talk or pressed or was_pressed:
                    if pressed:
                        self._ptt_frames.append(frame)
                    elif was_pressed:
                        audio = np.concatenate(self._ptt_frames) if self._ptt_frames else np.zeros(0)
                        self._ptt_frames = []
                        self.endpointer.reset()  # what the VAD half-heard is part of this turn
                        self._turn(audio, endpoint_s=0.0)
                    was_pressed = pressed
                    continue
                if self._gated():
                    self.endpointer.reset()
                    continue
                for event in self.endpointer.feed(frame):
                    if event.kind == "speech_start":
                        if self.speaking:
                            log.info("barge-in: the user spoke over the reply")
                            self.interrupt()
                        self._set_state(State.HEARING)
                    elif event.kind == "discarded":
                        self._set_state(State.SPEAKING if self.speaking else State.LISTENING)
                    elif event.kind == "utterance" and event.audio is not None:
                        backlog = self.capture.buffered_s if hasattr(self.capture, "buffered_s") else 0.0
                        self._turn(event.audio, endpoint_s=event.silence_s + backlog)
        except AudioError as e:
            self._emit_error(e)
        except Exception as e:  # never let the loop die silently: report, then stop
            log.exception("voice loop failed")
            self._emit_error(SeeSayError(f"Voice stopped: {e}"))
        finally:
            reply = self._reply
            if reply is not None:
                reply.cancel()
            self._set_state(State.IDLE)

    def _gated(self) -> bool:
        if self.headset:
            return False
        return self.speaking or time.perf_counter() - self._reply_done_at < ECHO_TAIL_S

    def _turn(self, audio: np.ndarray, endpoint_s: float) -> None:
        self.interrupt()
        self._set_state(State.THINKING)
        timing = TurnTiming(endpointing_s=endpoint_s)
        t0 = time.perf_counter()
        try:
            result = self.transcriber.transcribe(audio)
        except SeeSayError as e:
            self._emit_error(e)
            self._set_state(State.LISTENING)
            return
        timing.stt_s = time.perf_counter() - t0
        text = result.text.strip()
        if not text:
            log.info("heard sound but no words; still listening")
            self._set_state(State.LISTENING)
            return
        timing.transcript = text
        if self.cb.transcript is not None:
            self.cb.transcript(text)
        try:
            stream = self.session.send(text, source="voice")
        except SeeSayError as e:
            self._emit_error(e)
            self._set_state(State.LISTENING)
            return
        self.player.new_reply()
        reply = ReplySpeaker(self.synthesizer, self._sink, on_delta=self.cb.reply_delta)
        self._reply = reply
        self._reply_thread = threading.Thread(
            target=self._speak, args=(reply, stream, timing), name="seesay-reply", daemon=True
        )
        self._reply_thread.start()

    def _sink(self, chunk: np.ndarray, rate: int) -> None:
        self.player.play(chunk, rate)
        if not self._stop.is_set() and self.state == State.THINKING:
            self._set_state(State.SPEAKING)

    def _speak(self, reply: ReplySpeaker, stream: Any, timing: TurnTiming) -> None:
        result: ReplyResult | None = None
        try:
            result = reply.run(stream)
            t = result.timing
            timing.llm_first_sentence_s = t.since_start(t.first_sentence_at)
            timing.tts_first_sentence_s = t.first_tts_s
            if result.status == "complete":
                self.player.wait()
            else:  # stopped from elsewhere too (the chat's Stop button): stop talking as well
                self.player.stop()
        except SeeSayError as e:
            self._emit_error(e)
        except Exception as e:  # engine/TTS bug: report it, keep listening
            log.exception("reply failed")
            self._emit_error(SeeSayError(f"The spoken reply failed: {e}"))
        finally:
            first = self.player.first_sample_at
            if result is not None and first is not None and result.timing.first_audio_at is not None:
                timing.playback_s = max(0.0, first - result.timing.first_audio_at)
                timing.total_s = timing.endpointing_s + (first - result.timing.started) + timing.stt_s
            self._reply_done_at = time.perf_counter()
            self.turns.append(timing)
            if self.cb.turn is not None:
                self.cb.turn(timing)
            if result is not None and self.cb.reply_done is not None:
                self.cb.reply_done(result)
            if self._reply is reply:
                self._reply = None
            if not self._stop.is_set() and self.state in (State.THINKING, State.SPEAKING):
                self._set_state(State.LISTENING)
