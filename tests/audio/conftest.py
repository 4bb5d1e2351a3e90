"""Real audio without a sound card: a private PulseAudio with null sinks, and shared models.

``pulse`` starts its own daemon (private runtime dir and HOME, so it never touches a
user's sound server) with a ``vmic`` sink whose monitor is the default microphone and a
``vspk`` sink that is the default speaker. ALSA's pulse plugin routes PortAudio's
"default" device to it, so tests go through real PortAudio streams, paced in real time.
Anything played to ``vmic`` (``pulse.speak(wav)``) is what the microphone hears.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

FRONT_CENTER = Path("/usr/share/sounds/alsa/Front_Center.wav")


@dataclass
class Pulse:
    env: dict[str, str]

    def run(self, *args: str, check: bool = True) -> str:
        return subprocess.run(
            args, env=self.env, capture_output=True, text=True, check=check, timeout=20
        ).stdout

    def speak(self, wav: Path | str, device: str = "vmic") -> subprocess.Popen:
        """Play a file into the virtual microphone, in real time."""
        return subprocess.Popen(["paplay", f"--device={device}", str(wav)], env=self.env)

    def record_speaker(self, path: Path) -> subprocess.Popen:
        """Record what reaches the virtual speaker."""
        return subprocess.Popen(
            ["parecord", "--device=vspk.monitor", "--file-format=wav", str(path)], env=self.env
        )

    def load_sink(self, name: str) -> str:
        return self.run("pactl", "load-module", "module-null-sink", f"sink_name={name}").strip()


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pulse]:
    if not shutil.which("pulseaudio") or not shutil.which("paplay"):
        pytest.skip(
            "needs the pulseaudio daemon and pulseaudio-utils (apt install pulseaudio "
            "pulseaudio-utils libasound2-plugins)"
        )
    root = tmp_path_factory.mktemp("pulse")
    runtime, home = root / "run", root / "home"
    runtime.mkdir(mode=0o700)
    home.mkdir()
    env = {
        **os.environ,
        "XDG_RUNTIME_DIR": str(runtime),
        "HOME": str(home),
        "PULSE_SERVER": f"unix:{runtime}/pulse/native",
    }
    env.pop("PULSE_SINK", None)
    env.pop("PULSE_SOURCE", None)
    daemon = subprocess.Popen(
        [
            "pulseaudio",
            "-n",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--disallow-exit",
            "--load=module-native-protocol-unix",
            "--load=module-null-sink sink_name=vmic",
            "--load=module-null-sink sink_name=vspk",
            "--load=module-always-sink",
            "--log-target=stderr",
            "--log-level=error",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    p = Pulse(env)
    for _ in range(100):
        if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    else:
        daemon.kill()
        pytest.skip("the private PulseAudio daemon did not start")
    p.run("pactl", "set-default-sink", "vspk")
    p.run("pactl", "set-default-source", "vmic.monitor")
    saved = {k: os.environ.get(k) for k in ("XDG_RUNTIME_DIR", "PULSE_SERVER")}
    os.environ["XDG_RUNTIME_DIR"] = env["XDG_RUNTIME_DIR"]
    os.environ["PULSE_SERVER"] = env["PULSE_SERVER"]
    from seesay.audio import devices

    devices.refresh()  # PortAudio scans devices once; make it see this server
    try:
        yield p
    finally:
        daemon.terminate()
        try:
            daemon.wait(5)
        except subprocess.TimeoutExpired:
            daemon.kill()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def synth():
    from seesay.audio.tts import PiperSynthesizer

    s = PiperSynthesizer()
    s.load()
    return s


@pytest.fixture(scope="session")
def transcriber():
    from seesay.audio.stt import FasterWhisperTranscriber

    t = FasterWhisperTranscriber()
    t.load()
    return t


@pytest.fixture(scope="session")
def speech16k(synth) -> callable:
    """Text → 16 kHz speech from the bundled voice (cached)."""
    from seesay.audio.resample import resample

    cache: dict[str, np.ndarray] = {}

    def make(text: str) -> np.ndarray:
        if text not in cache:
            cache[text] = resample(synth.synthesize(text), synth.sample_rate, 16000)
        return cache[text]

    return make


def write_wav(path: Path, audio: np.ndarray, rate: int = 16000, channels: int = 1) -> Path:
    import soundfile as sf

    data = np.repeat(audio[:, None], channels, axis=1) if channels > 1 else audio
    sf.write(str(path), data, rate, subtype="PCM_16")
    return path


def words_of(text: str) -> list[str]:
    """Lower-case words, punctuation dropped and British spellings made American (Whisper's)."""
    text = text.lower().replace("colour", "color").replace("favourite", "favorite")
    return re.sub(r"[^a-z0-9' ]+", " ", text).split()


def word_edits(said: str, heard: str) -> int:
    """Word-level edit distance: substitutions, insertions and deletions."""
    a, b = words_of(said), words_of(heard)
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[-1]
