"""One voice turn from a file to a file, through the live loop's own components.

``seesay voice --input-file q.wav --output-file a.wav`` and ``seesay bench voice`` use
this: the same Endpointer, Transcriber, ChatSession and ReplySpeaker as the live loop,
with the speaker replaced by a list, so its latency breakdown is the live one minus
the sound card.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seesay.audio import SAMPLE_RATE, audiofile
from seesay.audio.reply import ReplySpeaker
from seesay.audio.transcript import Transcriber
from seesay.audio.tts import Synthesizer
from seesay.audio.vad import FRAME_S, Endpointer, frames_of
from seesay.errors import AudioError

log = logging.getLogger(__name__)


@dataclass
class TurnResult:
    transcript: str
    reply: str
    audio: np.ndarray
    sample_rate: int
    latency: dict[str, float | None] = field(default_factory=dict)


def endpoint(endpointer: Endpointer, audio: np.ndarray) -> tuple[np.ndarray, float]:
    """The first utterance in ``audio`` and the endpointing time it cost.

    Endpointing time is the trailing silence the endpointer waited for plus the time to
    score the frames it needed after speech ended: what a live user waits for.
    """
    endpointer.reset()
    for frame in frames_of(audio):
        t0 = time.perf_counter()
        for event in endpointer.feed(frame):
            if event.kind == "utterance" and event.audio is not None:
                compute = (time.perf_counter() - t0) * max(1, round(event.silence_s / FRAME_S))
                return event.audio, event.silence_s + compute
    for event in endpointer.flush():
        if event.kind == "utterance" and event.audio is not None:
            return event.audio, 0.0
    raise AudioError("No speech was heard in the recording.")


def run_turn(
    session: Any,
    transcriber: Transcriber,
    synthesizer: Synthesizer,
    endpointer: Endpointer,
    audio: np.ndarray,
) -> TurnResult:
    """VAD → STT → LLM → TTS on 16 kHz audio; returns the reply audio and where the time went."""
    utterance, endpoint_s = endpoint(endpointer, audio)
    t0 = time.perf_counter()
    heard = transcriber.transcribe(utterance)
    stt_s = time.perf_counter() - t0
    if not heard.text.strip():
        raise AudioError("Sound was heard but no words could be made out.")
    chunks: list[np.ndarray] = []
    speaker = ReplySpeaker(synthesizer, lambda chunk, rate: chunks.append(chunk))
    result = speaker.run(session.send(heard.text, source="voice"))
    t = result.timing
    first_audio = t.since_start(t.first_audio_at)
    latency = {
        "endpointing_s": endpoint_s,
        "stt_s": stt_s,
        "llm_first_sentence_s": t.since_start(t.first_sentence_at),
        "tts_first_sentence_s": t.first_tts_s,
        "voice_to_voice_s": None if first_audio is None else endpoint_s + stt_s + first_audio,
        "voice_to_voice_excl_endpointing_s": None if first_audio is None else stt_s + first_audio,
    }
    audio_out = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return TurnResult(
        heard.text,
        result.text,
        audio_out,
        synthesizer.sample_rate,
        {k: (None if v is None else round(v, 3)) for k, v in latency.items()},
    )


def run_turn_from_file(
    session: Any,
    transcriber: Transcriber,
    synthesizer: Synthesizer,
    endpointer: Endpointer,
    in_path: str | Path,
    out_path: str | Path | None,
) -> TurnResult:
    audio = audiofile.load(in_path)
    # a recording that stops right at the last word still needs the silence that ends a turn
    silence = np.zeros(int(endpointer.config.end_silence_ms / 1000 * SAMPLE_RATE) + 1024, dtype=np.float32)
    result = run_turn(session, transcriber, synthesizer, endpointer, np.concatenate([audio, silence]))
    if out_path is not None:
        audiofile.write_wav(out_path, result.audio, result.sample_rate)
    return result
