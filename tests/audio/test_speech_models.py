"""Whisper, Piper and Silero on real speech: round trip, endpointing and bad files."""

from __future__ import annotations

import struct
import tracemalloc

import numpy as np
import pytest

from seesay.audio import audiofile
from seesay.audio.stt import transcribe_file
from seesay.audio.vad import EndpointConfig, Endpointer, SileroVAD, frames_of
from seesay.errors import AudioError
from tests.audio.conftest import FRONT_CENTER, word_edits, words_of, write_wav

pytestmark = pytest.mark.slow

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please turn off the lights in the kitchen.",
    "What time does the next train leave?",
    "My favourite colour is green.",
    "It is raining heavily outside today.",
    "Can you remind me to call my mother tomorrow?",
    "The library opens at nine in the morning.",
    "She bought three apples and two oranges.",
    "We should plan a trip to the mountains.",
    "How far is it from here to the station?",
    "Music helps me focus when I work.",
    "Dinner will be ready in ten minutes.",
]


def test_piper_to_whisper_round_trip_wer_under_10_percent(speech16k, transcriber) -> None:
    errors = words = 0
    for s in SENTENCES:
        heard = transcriber.transcribe(speech16k(s)).text
        errors += word_edits(s, heard)
        words += len(words_of(s))
    assert errors / words <= 0.10, f"WER {errors / words:.1%}"


def test_a_recorded_human_voice(transcriber) -> None:
    r = transcribe_file(transcriber, FRONT_CENTER)
    assert words_of(r.text) == ["front", "center"]


def test_word_timestamps(speech16k) -> None:
    from seesay.audio.stt import FasterWhisperTranscriber

    r = FasterWhisperTranscriber(word_timestamps=True).transcribe(speech16k("Turn off the lights."))
    assert [w.text.strip(" .").lower() for w in r.words] == ["turn", "off", "the", "lights"]
    assert all(w.end > w.start for w in r.words)


@pytest.mark.parametrize(
    "rate, channels, fmt",
    [(8000, 1, "wav"), (48000, 2, "wav"), (44100, 2, "flac"), (22050, 1, "ogg"), (16000, 1, "aiff")],
)
def test_any_rate_channels_and_format(tmp_path, synth, transcriber, rate, channels, fmt) -> None:
    import soundfile as sf

    from seesay.audio.resample import resample

    audio = resample(synth.synthesize("Please turn off the lights."), synth.sample_rate, rate)
    path = tmp_path / f"clip.{fmt}"
    data = np.repeat(audio[:, None], channels, axis=1) if channels > 1 else audio
    sf.write(str(path), data, rate)
    assert words_of(transcribe_file(transcriber, path).text) == ["please", "turn", "off", "the", "lights"]


def test_bad_files_are_clear_errors(tmp_path, transcriber) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio at all\n" * 50)
    for path, message in [
        (empty, "empty"),
        (text, "not a readable audio file"),
        (tmp_path / "missing.mp3", "no such file"),
    ]:
        with pytest.raises(AudioError, match=message):
            transcribe_file(transcriber, path)


def test_silent_and_truncated_files(tmp_path, speech16k, transcriber) -> None:
    silent = write_wav(tmp_path / "silent.wav", np.zeros(16000 * 3, dtype=np.float32))
    assert transcribe_file(transcriber, silent).text == ""
    whole = write_wav(tmp_path / "whole.wav", speech16k("The library opens at nine in the morning."))
    cut = tmp_path / "cut.wav"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # header still claims the full length
    with pytest.raises(AudioError, match=r"cut short .* promises \d\.\d s of audio but only \d\.\d s"):
        transcribe_file(transcriber, cut)
    streamed = tmp_path / "streamed.wav"  # a header that states no length, as live recorders write
    streamed.write_bytes(data[:4] + b"\xff\xff\xff\xff" + data[8:40] + b"\xff\xff\xff\xff" + data[44:])
    assert words_of(transcribe_file(transcriber, streamed).text)[:2] == ["the", "library"]


def _sparse_wav(path, seconds: int, rate: int = 16000):
    """A valid hour-long 16-bit WAV made of a header and a sparse hole (no disk, no RAM)."""
    n = seconds * rate * 2
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + n)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    )
    with open(path, "wb") as f:
        f.write(header + b"data" + struct.pack("<I", n))
        f.truncate(44 + n)
    return path


def test_an_hour_long_file_is_streamed_in_bounded_memory(tmp_path, transcriber) -> None:
    path = _sparse_wav(tmp_path / "hour.wav", 3600)
    seen = []
    tracemalloc.start()
    try:
        r = transcribe_file(transcriber, path, progress=lambda done, total: seen.append((done, total)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.text == "" and r.duration == pytest.approx(3600, abs=1)
    assert seen[-1][0] == pytest.approx(3600, abs=1) and seen[-1][1] == pytest.approx(3600, abs=1)
    assert len(seen) > 100  # one report per window
    assert peak < 50e6  # the whole file as float32 would be 230 MB


def test_long_speech_is_windowed_without_losingwords_of(speech16k, transcriber) -> None:
    from seesay.audio.stt import windows

    parts = [speech16k(s) for s in SENTENCES[:6]]
    gap = np.zeros(8000, dtype=np.float32)
    audio = np.concatenate([x for p in parts for x in (p, gap)])
    pieces = list(windows([audio], window_s=6.0))
    assert len(pieces) >= 3
    assert sum(len(w) for _, w in pieces) == len(audio)
    text = " ".join(transcriber.transcribe(w, offset=s).text for s, w in pieces)
    expected = [w for s in SENTENCES[:6] for w in words_of(s)]
    assert word_edits(" ".join(SENTENCES[:6]), text) / len(expected) <= 0.15


def _run(endpointer: Endpointer, audio: np.ndarray) -> list[tuple[float, str, float]]:
    out = []
    for i, frame in enumerate(frames_of(audio)):
        for ev in endpointer.feed(frame):
            out.append((round(i * 0.032, 2), ev.kind, 0.0 if ev.audio is None else len(ev.audio) / 16000))
    return out


def test_endpointing_on_speech_with_silence(speech16k) -> None:
    speech = speech16k("What time does the next train leave?")
    silence = np.zeros(16000, dtype=np.float32)
    audio = np.concatenate([silence, speech, silence, speech, silence])
    events = _run(Endpointer(SileroVAD()), audio)
    kinds = [k for _, k, _ in events]
    assert kinds == ["speech_start", "utterance", "speech_start", "utterance"]
    first_end = events[1][0]
    speech_end = (16000 + len(speech)) / 16000
    assert speech_end + 0.3 < first_end < speech_end + 0.9  # ~500 ms of silence ends the turn
    assert events[1][2] == pytest.approx(len(speech) / 16000 + 0.45, abs=0.4)  # pre-roll + tail kept


def test_longer_end_silence_waits_out_pauses(speech16k) -> None:
    a, b = speech16k("Turn off the lights."), speech16k("And lock the door.")
    pause = np.zeros(int(0.7 * 16000), dtype=np.float32)
    audio = np.concatenate([pause, a, pause, b, np.zeros(32000, dtype=np.float32)])
    short = [k for _, k, _ in _run(Endpointer(SileroVAD(), EndpointConfig(end_silence_ms=400)), audio)]
    patient = [k for _, k, _ in _run(Endpointer(SileroVAD(), EndpointConfig(end_silence_ms=1200)), audio)]
    assert short.count("utterance") == 2 and patient.count("utterance") == 1


def test_clicks_and_coughs_do_not_make_turns() -> None:
    rng = np.random.default_rng(0)
    audio = np.zeros(16000 * 3, dtype=np.float32)
    for t in (0.5, 1.5, 2.2):  # clicks
        i = int(t * 16000)
        audio[i : i + 40] = 0.9
    burst = (rng.standard_normal(1600) * 0.4).astype(np.float32)  # a 100 ms noise burst, like a cough
    audio[20000:21600] += burst
    kinds = [k for _, k, _ in _run(Endpointer(SileroVAD()), audio)]
    assert "utterance" not in kinds and "speech_start" not in kinds


def test_audiofile_stream_blocks_are_bounded(tmp_path) -> None:
    path = _sparse_wav(tmp_path / "ten.wav", 25)
    blocks = list(audiofile.stream(path, block_s=10))
    assert [len(b) for b in blocks] == [160000, 160000, 80000]


def test_piper_with_a_thread_limit_speaks_the_same(synth, transcriber) -> None:
    """The onnxruntime session built with our own options (one thread, no spinning).

    Piper samples phoneme durations, so two syntheses of one text differ in length by
    up to ~10%: compare the words, not the samples.
    """
    from seesay.audio.resample import resample
    from seesay.audio.tts import PiperSynthesizer

    limited = PiperSynthesizer(threads=1)
    audio = limited.synthesize("Hello there, how are you today?")
    assert limited.sample_rate == synth.sample_rate
    assert len(audio) == pytest.approx(len(synth.synthesize("Hello there, how are you today?")), rel=0.25)
    heard = transcriber.transcribe(resample(audio, limited.sample_rate, 16000)).text.lower()
    assert "hello there" in heard and "today" in heard
