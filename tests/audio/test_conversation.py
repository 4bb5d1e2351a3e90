"""The voice loop end to end: a spoken question in, a spoken reply out, barge-in, one-turn files."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from seesay.audio.conversation import State, VoiceCallbacks, VoiceLoop
from seesay.audio.turn import run_turn_from_file
from seesay.audio.vad import Endpointer, SileroVAD
from seesay.chat import ChatSession
from seesay.config import Settings
from seesay.store import HistoryStore
from tests.audio.conftest import word_edits, write_wav

pytestmark = pytest.mark.slow


def _session(model_dir: Path, tmp_path: Path, tokens: int, temperature: float = 1.0) -> ChatSession:
    """Sampling (seeded) so the random tiny model writes words rather than one repeated token."""
    from seesay.inference import create_engine

    settings = Settings().replace(
        {
            "model.name": str(model_dir),
            "model.device": "cpu",
            "generation.seed": 7,
            "generation.max_new_tokens": tokens,
            "generation.temperature": temperature,
        }
    )
    engine = create_engine(settings)
    engine.load()
    return ChatSession(engine, settings, HistoryStore(tmp_path / "history.sqlite3"))


def _question(tmp_path: Path, speech16k, text: str, name: str) -> Path:
    pad = np.zeros(4000, dtype=np.float32)
    return write_wav(tmp_path / f"{name}.wav", np.concatenate([pad, speech16k(text), pad]))


class Recorder:
    def __init__(self) -> None:
        self.states: list[State] = []
        self.transcripts: list[str] = []
        self.replies: list = []
        self.levels: list[float] = []
        self.errors: list = []
        self.done = threading.Event()

    def callbacks(self) -> VoiceCallbacks:
        def reply_done(r) -> None:
            self.replies.append(r)
            self.done.set()

        return VoiceCallbacks(
            state=self.states.append,
            level=self.levels.append,
            transcript=self.transcripts.append,
            reply_done=reply_done,
            error=self.errors.append,
        )

    def wait_state(self, state: State, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.states and self.states[-1] == state:
                return True
            time.sleep(0.02)
        return False


def _loop(session, transcriber, synth, rec: Recorder, headset: bool) -> VoiceLoop:
    from seesay.audio.capture import Capture
    from seesay.audio.playback import Player

    return VoiceLoop(
        session,
        transcriber,
        synth,
        Endpointer(SileroVAD()),
        Capture(),
        Player(),
        headset=headset,
        callbacks=rec.callbacks(),
    )


def test_a_spoken_question_gets_a_spoken_reply(
    pulse, tiny_model_dir, tmp_path, speech16k, synth, transcriber
) -> None:
    session = _session(tiny_model_dir, tmp_path, tokens=24)
    question = _question(tmp_path, speech16k, "What is the capital of France?", "q")
    rec = Recorder()
    loop = _loop(session, transcriber, synth, rec, headset=False).start()
    heard = tmp_path / "speaker.wav"
    recorder = pulse.record_speaker(heard)
    try:
        assert rec.wait_state(State.LISTENING, 5)
        time.sleep(1.5)  # the sound server's stream start-up
        pulse.speak(question).wait()
        assert rec.done.wait(60), rec.errors
        assert loop.wait_idle(30)
        time.sleep(0.5)
    finally:
        loop.stop()
        recorder.terminate()
        recorder.wait(5)
    assert not rec.errors
    assert rec.transcripts == ["What is the capital of France?"]
    assert rec.replies[0].status == "complete" and rec.replies[0].text
    expected = [State.LISTENING, State.THINKING, State.SPEAKING, State.LISTENING]
    assert [s for s in rec.states if s != State.HEARING][:4] == expected, (rec.states, rec.replies)
    assert max(rec.levels) > 0.5 > min(rec.levels)
    msgs = session.store.messages(session.conversation_id)
    assert [(m.role, m.status) for m in msgs] == [("user", "complete"), ("assistant", "complete")]
    assert msgs[0].meta == {"source": "voice"} and msgs[0].content == rec.transcripts[0]
    from seesay.audio import audiofile

    played = audiofile.load(heard)
    assert np.abs(played).max() > 0.1  # the reply reached the speaker
    turn = loop.turns[0]
    assert turn.total_s is not None and turn.stt_s > 0 and turn.endpointing_s >= 0.4


def test_barge_in_stops_the_reply_and_starts_a_new_turn(
    pulse, bundled_model_dir, tmp_path, speech16k, synth, transcriber
) -> None:
    session = _session(bundled_model_dir, tmp_path, tokens=300, temperature=0.0)
    first = _question(tmp_path, speech16k, "Tell me a long story about a brave dragon.", "q1")
    second = _question(tmp_path, speech16k, "Stop. What is two plus two?", "q2")
    rec = Recorder()
    loop = _loop(session, transcriber, synth, rec, headset=True).start()
    try:
        assert rec.wait_state(State.LISTENING, 5)
        time.sleep(1.5)
        pulse.speak(first).wait()
        assert rec.wait_state(State.SPEAKING, 60), rec.errors
        time.sleep(0.5)
        interrupted_at = time.perf_counter()
        pulse.speak(second)
        assert rec.done.wait(30)
        stopped_after = time.perf_counter() - interrupted_at
        deadline = time.monotonic() + 60
        while len(rec.transcripts) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        loop.stop()
    assert rec.replies[0].status == "interrupted"
    assert stopped_after < 5.0  # speech start (>= 250 ms of voice) + cancel, not the whole story
    assert len(rec.transcripts) == 2 and "plus" in rec.transcripts[1].lower()
    msgs = session.store.messages(session.conversation_id)
    assert [(m.role, m.status) for m in msgs[:3]] == [
        ("user", "complete"),
        ("assistant", "interrupted"),
        ("user", "complete"),
    ]
    assert msgs[1].content  # what was said before the interruption is kept


def test_one_turn_from_a_file(tiny_model_dir, tmp_path, speech16k, synth, transcriber) -> None:
    session = _session(tiny_model_dir, tmp_path, tokens=24)
    question = _question(tmp_path, speech16k, "How many legs does a spider have?", "q")
    out = tmp_path / "reply.wav"
    result = run_turn_from_file(session, transcriber, synth, Endpointer(SileroVAD()), question, out)
    # Piper's voice is sampled afresh each time, so Whisper may hear "the" for "a": one word of slack
    assert word_edits("How many legs does a spider have?", result.transcript) <= 1, result.transcript
    assert result.reply and out.stat().st_size > 1000
    lat = result.latency
    assert lat["endpointing_s"] >= 0.5 and lat["stt_s"] > 0
    parts = lat["endpointing_s"] + lat["voice_to_voice_excl_endpointing_s"]
    assert lat["voice_to_voice_s"] == pytest.approx(parts, abs=0.01)
    msgs = session.store.messages(session.conversation_id)
    assert msgs[0].meta == {"source": "voice"} and msgs[1].status == "complete"
