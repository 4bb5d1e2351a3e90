"""Sentence splitting of streamed replies, Markdown → speech, and resampling."""

from __future__ import annotations

import numpy as np
import pytest

from seesay.audio.resample import Resampler, resample
from seesay.audio.sentences import SentenceSplitter, split_all
from seesay.audio.speakable import CODE_NOTE, speakable

REPLY = (
    "Dr. Smith said e.g. pi is 3.14. Really?! Yes 🎉 it is. Here:\n\n1. First item\n2. Second item\n\n"
    "```python\nprint('a. b')\n```\nDone. And an unfinished"
)
EXPECTED = [
    "Dr. Smith said e.g. pi is 3.14.",
    "Really?!",
    "Yes 🎉 it is.",
    "Here:",
    "1. First item",
    "2. Second item",
    "```python\nprint('a. b')\n```",
    "Done.",
    "And an unfinished",
]


def test_sentences_of_a_finished_reply() -> None:
    assert split_all(REPLY) == EXPECTED


@pytest.mark.parametrize("step", [1, 3, 7])
def test_streaming_gives_the_same_sentences_at_any_delta_size(step: int) -> None:
    s = SentenceSplitter()
    out = []
    for i in range(0, len(REPLY), step):
        out += s.feed(REPLY[i : i + step])
    assert out + s.flush() == EXPECTED


def test_a_sentence_is_released_as_soon_as_it_is_certain() -> None:
    s = SentenceSplitter()
    assert s.feed("Hello there.") == []  # could still be "Hello there.com"
    assert s.feed(" How") == ["Hello there."]
    assert s.feed(" are you") == []
    assert s.flush() == ["How are you"]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Mr. and Mrs. Jones met J. R. R. Tolkien at 5 p.m. today. Nice.",
            ["Mr. and Mrs. Jones met J. R. R. Tolkien at 5 p.m. today.", "Nice."],
        ),
        ("Version 2.5.1 costs $3.50. Buy it.", ["Version 2.5.1 costs $3.50.", "Buy it."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("Wait... what? OK!", ["Wait...", "what?", "OK!"]),
        ("Unclosed code:\n```\nx = 1.\n", ["Unclosed code:", "```\nx = 1."]),
    ],
)
def test_abbreviations_numbers_quotes_and_code(text: str, expected: list[str]) -> None:
    assert split_all(text) == expected


def test_run_on_text_is_cut_at_a_comma_so_speech_can_start() -> None:
    text = "word, " * 60
    pieces = SentenceSplitter(long=100).feed(text)
    assert pieces and all(len(p) <= 100 for p in pieces)


@pytest.mark.parametrize(
    "md, spoken",
    [
        ("**Bold** and *italic* and __strong__ and ~~gone~~", "Bold and italic and strong and gone"),
        ("## A heading", "A heading"),
        ("- item one", "item one"),
        ("3. third", "third"),
        ("Use `pip install x` now", "Use pip install x now"),
        ("See [the docs](https://example.com/a.html) and ![a cat](cat.png)", "See the docs and a cat"),
        ("Go to https://example.com today", "Go to a link today"),
        ("```python\nprint(1)\n```", CODE_NOTE),
        ("> quoted wisdom", "quoted wisdom"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "a, b, 1, 2"),
        ("Great job 🎉🚀!", "Great job!"),
        ("snake_case stays", "snake_case stays"),
    ],
)
def test_markdown_becomes_speakable(md: str, spoken: str) -> None:
    out = speakable(md)
    assert out == spoken
    assert not any(ch in out for ch in "*#`")


@pytest.mark.parametrize("src, dst", [(48000, 16000), (44100, 16000), (8000, 16000), (22050, 48000)])
def test_resampling_keeps_a_tone_and_streams_like_one_shot(src: int, dst: int) -> None:
    x = np.sin(2 * np.pi * 440 * np.arange(src) / src).astype(np.float32)
    y = resample(x, src, dst)
    assert len(y) == dst
    ref = np.sin(2 * np.pi * 440 * np.arange(dst) / dst)
    assert np.abs(y[100:-100] - ref[100:-100]).max() < 0.1
    r = Resampler(src, dst)
    streamed = np.concatenate([r.process(x[i : i + 333]) for i in range(0, len(x), 333)] + [r.flush()])
    np.testing.assert_allclose(streamed[r.delay : r.delay + dst], y, atol=1e-5)


def test_resampling_removes_what_the_new_rate_cannot_hold() -> None:
    x = np.sin(2 * np.pi * 12000 * np.arange(48000) / 48000).astype(np.float32)  # above 8 kHz Nyquist
    assert np.abs(resample(x, 48000, 16000)[200:-200]).max() < 0.01


@pytest.mark.parametrize(
    "text, first",
    [
        (
            "The moon is a mysterious and beautiful celestial body that has captivated people. Yes.",
            "The moon is a mysterious and beautiful celestial body",
        ),
        ("Well, the capital of France is Paris, of course.", "Well, the capital of France is Paris,"),
        ("Paris. It is lovely, with the river.", "Paris."),
        ("```py\nx = 1, 2, 3, 4, 5\n```\nDone.", "```py\nx = 1, 2, 3, 4, 5\n```"),
    ],
)
def test_early_mode_speaks_the_opening_clause_first(text: str, first: str) -> None:
    s = SentenceSplitter(early=True)
    out = []
    for i in range(0, len(text), 3):
        out += s.feed(text[i : i + 3])
    out += s.flush()
    assert out[0] == first
    assert " ".join(out).split() == text.split()  # nothing lost or repeated
    assert SentenceSplitter(early=True).feed("Hi there, how") == []  # too few words for a clause yet
