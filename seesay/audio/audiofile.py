"""Audio files in, 16 kHz mono float32 out, streamed so an hour-long file never sits in memory.

PyAV (FFmpeg, already a faster-whisper dependency) decodes wav/flac/mp3/ogg/aiff at any
rate and channel count and resamples frame by frame; every way a file can be unusable
becomes one :class:`AudioError` naming the file. A file cut short is one of those ways:
FFmpeg quietly stops at the end of what is there (it even shortens a WAV's stated
length to fit), which would pass off a fragment as the whole recording, so the sizes a
header promises are checked here. Writing goes the other way, block by block, into a
hidden sibling that takes the file's name only once it is complete.

Functions that read take ``name``: how messages refer to the file when its path is not
the user's to see (an upload spooled to a server's temporary file).
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import struct
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from seesay.audio import SAMPLE_RATE as RATE
from seesay.errors import AudioError

log = logging.getLogger(__name__)

_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # what streaming writers put in a RIFF size they cannot know yet


def _open(path: Path, label: str) -> Any:
    import av

    if not path.exists():
        raise AudioError(f"{label}: no such file.")
    if path.is_dir():
        raise AudioError(f"{label}: is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise AudioError(f"{label}: the file is empty.")
    short = _wav_shortfall(path)
    if short is not None:
        raise _cut_short(label, *short)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as e:
        raise AudioError(f"{label}: not a readable audio file ({_reason(e)}).") from e
    if not container.streams.audio:
        container.close()
        raise AudioError(f"{label}: contains no audio.")
    return container


def _wav_shortfall(path: Path) -> tuple[float, float] | None:
    """(seconds promised, seconds present) when a RIFF WAV's data chunk is cut short, else None.

    A header that states no size (0 or all ones, as streamed WAVs do) promises nothing.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            if struct.unpack("<I", head[4:8])[0] in _UNKNOWN_SIZES:
                return None
            byte_rate, frame = 0, 1
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                kind, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if kind == b"data":
                    present = size - f.tell()
                    if length in _UNKNOWN_SIZES or length - present <= frame or byte_rate <= 0:
                        return None
                    return length / byte_rate, max(0, present) / byte_rate
                if kind == b"fmt " and length >= 16:
                    fmt = f.read(16)
                    if len(fmt) < 16:
                        return None
                    byte_rate, frame = struct.unpack("<IH", fmt[8:14])
                    frame = max(1, frame)
                    f.seek(length - 16 + (length & 1), os.SEEK_CUR)
                else:
                    f.seek(length + (length & 1), os.SEEK_CUR)
    except OSError:
        return None  # opening it properly reports the problem


def _cut_short(label: str, promised_s: float, present_s: float) -> AudioError:
    return AudioError(
        f"{label}: the file is cut short (truncated or damaged): its header promises "
        f"{promised_s:.1f} s of audio but only {present_s:.1f} s is there."
    )


def _reason(e: Exception) -> str:
    text = getattr(e, "strerror", None) or str(e)
    return text.split(":")[0].strip() if text else type(e).__name__


def duration(path: str | Path, *, name: str | None = None) -> float | None:
    """Seconds, from the container header when it says (None when unknown)."""
    container = _open(Path(path), name or str(path))
    try:
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return container.duration / 1_000_000 if container.duration else None
    finally:
        container.close()


def stream(
    path: str | Path, rate: int = RATE, block_s: float = 10.0, *, name: str | None = None
) -> Iterator[np.ndarray]:
    """Yield mono float32 blocks of about ``block_s`` seconds at ``rate``, decoding lazily.

    A file that is cut short or damaged part-way raises :class:`AudioError` once its
    readable part has been yielded, so a caller never takes a fragment for the whole.
    """
    import av

    path = Path(path)
    label = name or str(path)
    container = _open(path, label)
    audio = container.streams.audio[0]
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    target = max(1, int(block_s * rate))
    pending: list[np.ndarray] = []
    have = 0
    produced = 0
    decoded = 0  # samples per channel at the file's own rate
    damage: Exception | None = None
    try:
        frames = container.decode(audio)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                frame = None
            except av.error.FFmpegError as e:
                damage, frame = e, None
            if frame is not None:
                decoded += frame.samples
            for out in resampler.resample(frame):
                block = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                pending.append(block)
                have += len(block)
            while have >= target:
                joined = np.concatenate(pending)
                yield joined[:target]
                produced += target
                rest = joined[target:]
                pending, have = ([rest] if len(rest) else []), len(rest)
            if frame is None:
                break
        if have:
            yield np.concatenate(pending)
            produced += have
        declared = audio.frames if audio.codec_context.name.startswith("pcm_") else 0
        file_rate = audio.codec_context.sample_rate or rate
    finally:
        container.close()
    if damage is not None:
        where = f" after {produced / rate:.1f} s" if produced else ""
        raise AudioError(f"{label}: the audio is damaged and cannot be decoded{where} ({_reason(damage)}).")
    if declared and decoded < declared:
        raise _cut_short(label, declared / file_rate, decoded / file_rate)
    if not produced:
        raise AudioError(f"{label}: contains no audio samples.")


def load(path: str | Path, rate: int = RATE, *, name: str | None = None) -> np.ndarray:
    """The whole file at ``rate`` (for short clips; use :func:`stream` for long ones)."""
    return np.concatenate(list(stream(path, rate, name=name)))


def write_wav(path: str | Path, audio: np.ndarray, rate: int) -> Path:
    """16-bit PCM WAV, the format every player opens."""
    with AudioWriter(path, rate) as out:
        out.write(audio)
    return Path(path)


def _new_sibling(path: Path) -> Path:
    """A fresh hidden file beside ``path``, created with the mode a plain ``open`` would give."""
    for _ in range(20):
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except OSError as e:
            raise AudioError(f"Cannot write {path}: {e.strerror or e}.") from e
        return temp
    raise AudioError(f"Cannot write {path}: no free temporary name beside it.")


class AudioWriter:
    """Mono audio written block by block, so a long recording never sits in memory.

    Use as a context manager. The blocks go to a hidden file beside ``path`` that is
    renamed over it only when the ``with`` block ends without an error, so a failure
    never leaves a partial file under the name asked for (nor clobbers an older one).
    The format follows the extension (16-bit PCM where the format has it), WAV when the
    extension names none; a device or pipe is written in place.
    """

    def __init__(self, path: str | Path, rate: int) -> None:
        self.path = Path(path)
        self.rate = rate
        self.frames = 0
        self._file: Any = None
        self._temp: Path | None = None

    def __enter__(self) -> AudioWriter:
        import soundfile as sf

        path = self.path
        if path.is_dir():
            raise AudioError(
                f"Cannot write {path}: it is a folder; give a file name such as {path / 'speech.wav'}."
            )
        parent = path.parent
        if not parent.is_dir():
            raise AudioError(f"Cannot write {path}: the folder {parent} does not exist.")
        kind = path.suffix.lstrip(".").upper()
        kind = kind if kind in sf.available_formats() else "WAV"
        subtype = "PCM_16" if sf.check_format(kind, "PCM_16") else None
        if path.is_symlink():
            self.path = path = Path(os.path.realpath(path))  # replace what it points to, not the link
        target = path
        if not path.exists() or stat.S_ISREG(path.stat().st_mode):
            self._temp = target = _new_sibling(path)
        try:
            self._file = sf.SoundFile(
                str(target), "w", samplerate=self.rate, channels=1, format=kind, subtype=subtype
            )
        except (OSError, RuntimeError) as e:
            self._remove_temp()
            raise AudioError(f"Cannot write {path}: {e}") from e
        return self

    def write(self, audio: np.ndarray) -> None:
        block = np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)
        try:
            self._file.write(block)
        except (OSError, RuntimeError) as e:
            raise AudioError(f"Cannot write {self.path}: {e}") from e
        self.frames += len(block)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._file.close()
        except (OSError, RuntimeError) as e:
            if kind is None:
                self._remove_temp()
                raise AudioError(f"Cannot write {self.path}: {e}") from e
        if self._temp is None:
            return
        if kind is not None:
            self._remove_temp()
            return
        try:
            os.replace(self._temp, self.path)
        except OSError as e:
            self._remove_temp()
            raise AudioError(f"Cannot write {self.path}: {e.strerror or e}.") from e

    def _remove_temp(self) -> None:
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None
