"""Real PortAudio streams on a private PulseAudio: capture, playback, stop, lost devices."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from seesay.audio import devices
from seesay.audio.capture import Capture, RingBuffer
from seesay.audio.playback import Player
from seesay.errors import AudioError
from tests.audio.conftest import FRONT_CENTER


def test_ring_buffer_drops_oldest_and_stays_bounded() -> None:
    ring = RingBuffer(10)
    ring.write(np.arange(6, dtype=np.float32))
    ring.write(np.arange(6, 12, dtype=np.float32))
    assert len(ring) == 10 and ring.dropped == 2
    assert ring.read(4).tolist() == [2, 3, 4, 5]
    ring.write(np.arange(100, 125, dtype=np.float32))
    assert len(ring) == 10 and ring.read(10).tolist() == list(range(115, 125))


def test_capture_hears_what_is_played_into_the_microphone(pulse) -> None:
    frames = []
    with Capture(stall_timeout=5.0) as cap:
        assert cap.samplerate != 16000  # the device rate is converted, not forced
        time.sleep(1.0)  # the sound server's stream start-up
        cap.clear()
        speaker = pulse.speak(FRONT_CENTER)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            f = cap.read(0.5)
            if f is not None:
                assert f.shape == (512,) and f.dtype == np.float32
                frames.append(f)
        speaker.wait()
    audio = np.concatenate(frames)
    assert len(audio) > 16000 * 1.5
    assert np.abs(audio).max() > 0.2  # the clip peaks near 0.46


def test_device_selection_by_name_number_and_errors(pulse) -> None:
    default = devices.find_device("", "input")
    assert devices.find_device(str(default.index), "input") == default
    assert devices.find_device("defau", "input").name == "default"
    with pytest.raises(AudioError, match="No microphone matches 'no such mic'"):
        devices.find_device("no such mic", "input")
    assert devices.check_available("output") is None


def test_playback_stops_within_100_ms_and_reports_first_sample(pulse) -> None:
    rate = 22050
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(rate * 5) / rate)).astype(np.float32)
    with Player() as player:
        player.new_reply()
        queued = time.perf_counter()
        player.play(tone, rate)
        deadline = time.monotonic() + 5
        while player.first_sample_at is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert player.first_sample_at is not None and player.first_sample_at >= queued
        time.sleep(0.3)
        assert player.playing
        t0 = time.perf_counter()
        assert player.stop()
        assert time.perf_counter() - t0 < 0.1
        played = player.samples_played
        time.sleep(0.2)
        assert player.samples_played == played and not player.playing


def test_player_resamples_and_drains(pulse) -> None:
    with Player() as player:
        player.play(np.zeros(8000, dtype=np.float32), 8000)
        assert player.wait(timeout=5)
        assert player.samples_played == pytest.approx(player.samplerate, rel=0.01)


def test_microphone_that_disappears_raises_audio_error(pulse) -> None:
    module = pulse.load_sink("vgone")
    try:
        devices.refresh()
        pulse.run("pactl", "set-default-source", "vgone.monitor")
        with Capture(stall_timeout=1.0) as cap:
            got = [cap.read(2.0) for _ in range(5)]
            assert any(f is not None for f in got)
            pulse.run("pactl", "unload-module", module)
            module = ""
            with pytest.raises(AudioError, match="stopped"):
                for _ in range(100):
                    cap.read(0.2)
    finally:
        if module:
            pulse.run("pactl", "unload-module", module, check=False)
        pulse.run("pactl", "set-default-source", "vmic.monitor")
        devices.refresh()


def test_no_input_device_is_a_clear_error(tmp_path) -> None:
    """No sound server and no card: the real PortAudio finds no microphone."""
    env = {
        **os.environ,
        "XDG_RUNTIME_DIR": str(tmp_path),
        "HOME": str(tmp_path),
        "PULSE_SERVER": f"unix:{tmp_path}/none",
        "PYTHONPATH": os.getcwd(),
    }
    code = "from seesay.audio.devices import check_available; print(check_available('input'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "No microphone was found" in out.stdout


def test_missing_portaudio_is_a_clear_error(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_portaudio(name, *a, **k):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    with pytest.raises(AudioError, match="libportaudio2"):
        devices.list_devices()
    assert "PortAudio" in devices.check_available("input")
