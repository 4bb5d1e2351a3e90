"""Read one message aloud with the voice the voice mode speaks in, off the UI thread.

Reading needs only the synthesiser and a speaker, not the microphone or the speech
recogniser, so it keeps its own Piper voice (loaded on first use, a fraction of a second)
rather than starting voice mode. Synthesis streams sentence by sentence, so the first
words sound while the rest is still being made; one message reads at a time, and a
second click stops it within one audio block.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from seesay.config import Settings
from seesay.errors import SeeSayError

log = logging.getLogger(__name__)


class ReadAloud(QObject):
    """``toggle(key, text, settings)`` starts reading (or stops it when ``key`` is already reading)."""

    speaking = Signal(object, bool)  # key, whether it is being read now
    failed = Signal(str)
    _finished = Signal(object, object)  # key, the stop event of that reading (from its thread)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._finished.connect(self._on_finished)
        self.key: object | None = None
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._voice: tuple[Any, Any] | None = None  # (settings key, synthesiser)
        self._voice_lock = threading.Lock()

    def toggle(self, key: object, text: str, settings: Settings) -> None:
        reading = self.key
        self.stop()
        if reading is key:
            return
        from seesay.audio.speakable import speakable

        words = speakable(text)
        if not words.strip():
            self.failed.emit("There is nothing to read aloud in that message.")
            return
        self.key, stop = key, threading.Event()
        self._stop = stop
        self._thread = threading.Thread(
            target=self._read, args=(key, words, settings, stop), name="seesay-read-aloud", daemon=True
        )
        self.speaking.emit(key, True)
        self._thread.start()

    def stop(self) -> None:
        """Silence at once; the thread ends on its own and reports nothing more."""
        key, stop = self.key, self._stop
        self.key, self._stop = None, None
        if stop is not None:
            stop.set()
        if key is not None:
            self.speaking.emit(key, False)

    def shutdown(self, timeout: float = 2.0) -> None:
        self.stop()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _synthesizer(self, settings: Settings) -> Any:
        from seesay.audio.tts import create_synthesizer

        voice = settings.voice
        with self._voice_lock:
            if self._voice is None or self._voice[0] != voice.tts_voice:
                synthesizer = create_synthesizer(voice)
                synthesizer.load()  # type: ignore[attr-defined]
                self._voice = (voice.tts_voice, synthesizer)
            synthesizer = self._voice[1]
            if hasattr(synthesizer, "speed"):
                synthesizer.speed = voice.tts_speed
            return synthesizer

    def _read(self, key: object, words: str, settings: Settings, stop: threading.Event) -> None:
        from seesay.audio.playback import Player

        player: Player | None = None
        try:
            synthesizer = self._synthesizer(settings)
            if stop.is_set():
                return
            player = Player(settings.voice.output_device or None).start()
            for chunk in synthesizer.stream(words):
                if stop.is_set():
                    break
                player.play(chunk, synthesizer.sample_rate)
            while not stop.is_set() and not player.wait(0.05):
                pass
        except SeeSayError as exc:
            if not stop.is_set():
                self.failed.emit(f"The message could not be read aloud: {exc}")
        except Exception as exc:  # a broken voice or sound system must not take the window down
            log.exception("reading aloud failed")
            if not stop.is_set():
                self.failed.emit(f"The message could not be read aloud ({type(exc).__name__}: {exc}).")
        finally:
            if player is not None:
                player.stop()
                player.close()
            if not stop.is_set():
                stop.set()
                self._finished.emit(key, stop)

    def _on_finished(self, key: object, stop: threading.Event) -> None:
        if self._stop is stop:  # not a reading that was stopped and replaced meanwhile
            self.key, self._stop = None, None
            self.speaking.emit(key, False)
