"""Speech work stays bounded whatever the text: pieces for the voice, blocks for the resampler."""

from __future__ import annotations

import itertools
import time
import tracemalloc

import numpy as np
import pytest

from seesay.audio.resample import resample, resample_stream
from seesay.audio.sentences import bounded_pieces

WORDS = "the quick brown fox jumps over a lazy dog while seven small robots paint blue houses".split()  # noqa: SIM905


def _unpunctuated(n: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    text = ""
    while len(text) < n:
        text += " ".join(rng.choice(WORDS, 50)) + " "
    return text[:n].strip()


def test_unpunctuated_text_is_cut_between_words_within_the_limit() -> None:
    text = _unpunctuated(5000)
    pieces = list(bounded_pieces(text, 180))
    assert max(len(p) for p in pieces) <= 180
    assert min(len(p) for p in pieces[:-1]) > 150  # cut at the last space, not early
    assert " ".join(pieces).split() == text.split()  # every word kept, none split


def test_the_most_natural_cut_wins() -> None:
    sentence = "Short and done. " + "then a run on part with a comma, and more words after it " * 3
    assert next(bounded_pieces(sentence, 120)) == "Short and done."
    clause = "a clause of plain words that runs on for a while, " + "and then keeps going " * 5
    assert next(bounded_pieces(clause, 80)).endswith("a while,")
    early = "Hi, " + "word " * 40  # a comma near the start would leave a scrap: cut at a space
    assert len(next(bounded_pieces(early, 60))) > 50
    assert list(bounded_pieces("Dr. Smith came home. He slept.", 25)) == ["Dr. Smith came home.", "He slept."]
    assert list(bounded_pieces("line one\nline two and more", 20)) == ["line one", "line two and more"]
    assert list(bounded_pieces("Fits whole. Not cut.", 100)) == ["Fits whole. Not cut."]


def test_a_huge_single_word_is_cut_hard_but_not_inside_a_character() -> None:
    assert [len(p) for p in bounded_pieces("x" * 450, 200)] == [200, 200, 50]
    accented = "e\u0301" * 300  # each é is a letter and a combining accent
    pieces = list(bounded_pieces(accented, 101))
    assert all(len(p) <= 101 and p[0] != "\u0301" for p in pieces)
    assert "".join(pieces) == accented


def test_splitting_is_linear_in_the_text_length() -> None:
    text = _unpunctuated(1_000_000)
    t0 = time.perf_counter()
    count = sum(1 for _ in bounded_pieces(text, 180))
    assert count > 5000
    assert time.perf_counter() - t0 < 5  # one pass over the text, a window at a time


def test_resampler_memory_does_not_grow_with_the_block() -> None:
    """A 20 s block at 22.05 kHz → 24 kHz: output and input are ~1.8 MB each as float32.

    Gathering the taps of every output at once (32 int64 indices and 2 x 32 floats
    each) would take ~250 MB here, and gigabytes for a few minutes of speech.
    """
    x = np.random.default_rng(0).standard_normal(22050 * 20).astype(np.float32)
    tracemalloc.start()
    try:
        y = resample(x, 22050, 24000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(y) == 24000 * 20
    assert peak < 20e6


@pytest.mark.parametrize(("src", "dst"), [(22050, 24000), (48000, 16000), (16000, 22050)])
def test_streamed_resampling_is_one_signal(src: int, dst: int) -> None:
    x = np.random.default_rng(1).standard_normal(src * 2).astype(np.float32)
    cuts = [0, 1, 7, 5000, 5001, src, len(x)]
    blocks = [x[a:b] for a, b in itertools.pairwise(cuts)]
    streamed = np.concatenate(list(resample_stream(blocks, src, dst)))
    assert np.array_equal(streamed, resample(x, src, dst))
    assert len(streamed) == round(len(x) * dst / src)
