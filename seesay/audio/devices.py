"""PortAudio access and device choice, in one place so every failure reads the same.

sounddevice raises ``OSError`` at import when the PortAudio library is missing and
``PortAudioError`` for unusable devices; callers (the loop, the GUI, the CLI) only ever
see :class:`AudioError` with a message that says what to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from seesay.errors import AudioError

log = logging.getLogger(__name__)

Kind = Literal["input", "output"]

NO_PORTAUDIO = (
    "Voice needs the PortAudio library, which is not installed "
    "(on Debian/Ubuntu: sudo apt install libportaudio2). Text chat still works."
)


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool = False
    is_default_output: bool = False

    def label(self) -> str:
        return f"{self.index}: {self.name} ({self.hostapi})"


def sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio into an :class:`AudioError`."""
    try:
        import sounddevice as sd
    except OSError as e:  # raised by sounddevice when libportaudio cannot be loaded
        raise AudioError(NO_PORTAUDIO) from e
    return sd


def refresh() -> None:
    """Re-scan devices: PortAudio lists them once at start-up, so plugged-in ones need this."""
    sd = sounddevice()
    try:
        sd._terminate()
        sd._initialize()
    except sd.PortAudioError as e:
        raise AudioError(f"The sound system could not be restarted: {e}") from e


def list_devices() -> list[Device]:
    sd = sounddevice()
    try:
        raw = sd.query_devices()
        apis = sd.query_hostapis()
        default_in, default_out = sd.default.device
    except sd.PortAudioError as e:
        raise AudioError(f"Sound devices cannot be listed: {e}") from e
    out = []
    for i, d in enumerate(raw):
        out.append(
            Device(
                i,
                d["name"],
                apis[d["hostapi"]]["name"],
                d["max_input_channels"],
                d["max_output_channels"],
                float(d["default_samplerate"]),
                i == default_in,
                i == default_out,
            )
        )
    return out


def _has(d: Device, kind: Kind) -> bool:
    return (d.max_input_channels if kind == "input" else d.max_output_channels) > 0


def find_device(spec: str | int | None, kind: Kind) -> Device:
    """The device a setting names: empty for the default, a number, or part of a name."""
    devices = [d for d in list_devices() if _has(d, kind)]
    what = "microphone" if kind == "input" else "speaker"
    if not devices:
        raise AudioError(
            f"No {what} was found. Connect one (or check the sound system is running); text chat still works."
        )
    text = "" if spec is None else str(spec).strip()
    if not text:
        for d in devices:
            if d.is_default_input if kind == "input" else d.is_default_output:
                return d
        return devices[0]
    if text.lstrip("-").isdigit():
        for d in devices:
            if d.index == int(text):
                return d
    else:
        matches = [d for d in devices if text.lower() in d.name.lower()]
        exact = [d for d in matches if d.name.lower() == text.lower()]
        if exact or len(matches) == 1:
            return (exact or matches)[0]
        if matches:
            names = "; ".join(d.label() for d in matches)
            raise AudioError(f"More than one {what} matches {text!r}: {names}. Use its number.")
    names = "; ".join(d.label() for d in devices)
    raise AudioError(f"No {what} matches {text!r}. Available: {names}.")


def check_available(kind: Kind = "input", spec: str | int | None = None) -> str | None:
    """None when voice can run, else the reason it cannot (for disabling controls)."""
    try:
        find_device(spec, kind)
    except AudioError as e:
        return str(e)
    return None
