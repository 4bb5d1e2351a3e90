"""Text the synthesizer gets from users and clients can hold anything."""

import numpy as np
import pytest

from seesay.audio.tts import PiperSynthesizer


@pytest.mark.slow
def test_control_characters_are_not_spoken_and_do_not_crash() -> None:
    voice = PiperSynthesizer()
    audio = np.concatenate(list(voice.stream("Hello\x00 there\x07.")))
    assert audio.size > voice.sample_rate // 4
    assert list(voice.stream("\x00\x01")) == []
