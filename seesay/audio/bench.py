"""``seesay bench voice``: the figures the voice issue asks for, as one JSON object.

Speech for the runs is synthesised with the bundled voice (no recordings needed), so
the numbers are reproducible on any machine: STT and TTS real-time factors, TTS time
to first audio, and voice-to-voice latency over several full turns through
:func:`seesay.audio.turn.run_turn` with the configured chat model.
"""

from __future__ import annotations

import logging
import platform
import statistics
import time
from typing import Any

import numpy as np

from seesay.audio import SAMPLE_RATE
from seesay.audio.resample import resample
from seesay.audio.stt import create_transcriber
from seesay.audio.tts import create_synthesizer
from seesay.audio.turn import run_turn
from seesay.audio.vad import Endpointer, SileroVAD, config_from
from seesay.config import Settings

log = logging.getLogger(__name__)

QUESTIONS = [
    "What is the capital of France?",
    "How many legs does a spider have?",
    "Tell me a fun fact about the moon.",
    "What colour is the sky on a clear day?",
    "Name three kinds of fruit.",
    "How do I boil an egg?",
    "What is two plus two?",
    "Why do leaves change colour in autumn?",
    "Give me a tip for sleeping better.",
    "What is the largest ocean on Earth?",
    "Can you recommend a good book?",
    "What does a bee make?",
]


def _p50(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(statistics.median(vals), 3) if vals else None


def bench_voice(settings: Settings, turns: int = 10, max_tokens: int = 48) -> dict[str, Any]:
    from seesay.chat import ChatSession
    from seesay.inference import create_engine

    synth = create_synthesizer(settings.voice)
    stt = create_transcriber(settings.voice)
    t0 = time.perf_counter()
    synth.load()  # type: ignore[attr-defined]
    stt.load()  # type: ignore[attr-defined]
    load_s = time.perf_counter() - t0
    rate = synth.sample_rate

    # TTS: real-time factor over all questions, and time to first audio of a two-sentence reply
    clips, tts_time, tts_audio = [], 0.0, 0.0
    for q in QUESTIONS:
        t = time.perf_counter()
        clip = synth.synthesize(q)  # type: ignore[attr-defined]
        tts_time += time.perf_counter() - t
        tts_audio += len(clip) / rate
        clips.append(resample(clip, rate, SAMPLE_RATE))
    t = time.perf_counter()
    next(iter(synth.stream("Sure, here is the answer. It has a second sentence too.")))
    tts_first = time.perf_counter() - t

    # STT: real-time factor on the synthesised questions
    stt_time, stt_audio = 0.0, 0.0
    for clip in clips:
        r = stt.transcribe(clip)
        stt_time += r.seconds
        stt_audio += r.duration

    # voice to voice: full turns with the configured chat model
    settings = settings.replace({"generation.max_new_tokens": max_tokens, "generation.temperature": 0.0})
    engine = create_engine(settings)
    engine.load()
    vad = Endpointer(SileroVAD(), config_from(settings.voice))
    silence = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)
    tail = np.zeros(int((settings.voice.end_silence_ms / 1000 + 0.3) * SAMPLE_RATE), dtype=np.float32)
    results = []
    for i in range(turns + 1):  # the first turn warms caches and is not counted
        session = ChatSession(engine, settings, save=False)
        audio = np.concatenate([silence, clips[i % len(clips)], tail])
        turn = run_turn(session, stt, synth, vad, audio)
        if i:
            results.append(turn.latency)
    keys = [
        "endpointing_s",
        "stt_s",
        "llm_first_sentence_s",
        "tts_first_sentence_s",
        "voice_to_voice_s",
        "voice_to_voice_excl_endpointing_s",
    ]
    return {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "stt": {"backend": stt.name, "rtf": round(stt_time / stt_audio, 4), "audio_s": round(stt_audio, 2)},
        "tts": {
            "voice": synth.name,
            "rtf": round(tts_time / tts_audio, 4),
            "time_to_first_audio_s": round(tts_first, 3),
            "sample_rate": rate,
        },
        "models_load_s": round(load_s, 2),
        "llm": {"model": engine.model_name, "device": engine.device},
        "voice_to_voice": {
            "turns": len(results),
            "end_silence_ms": settings.voice.end_silence_ms,
            **{f"p50_{k}": _p50([r[k] for r in results]) for k in keys},
        },
    }


__all__ = ["QUESTIONS", "bench_voice"]
