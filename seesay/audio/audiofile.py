"""Audio files in, 16 kHz mono float32 out, streamed so an hour-long file never sits in memory.

PyAV (FFmpeg, already a faster-whisper dependency) decodes wav/flac/mp3/ogg/aiff at any
rate and channel count and resamples frame by frame; every way a file can be unusable
becomes one :class:`AudioError` naming the file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from seesay.audio import SAMPLE_RATE as RATE
from seesay.errors import AudioError

log = logging.getLogger(__name__)


def _open(path: Path):
    import av

    if not path.exists():
        raise AudioError(f"{path}: no such file.")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty.")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as e:
        raise AudioError(f"{path}: not a readable audio file ({_reason(e)}).") from e
    if not container.streams.audio:
        container.close()
        raise AudioError(f"{path}: contains no audio.")
    return container


def _reason(e: Exception) -> str:
    text = getattr(e, "strerror", None) or str(e)
    return text.split(":")[0].strip() if text else type(e).__name__


def duration(path: str | Path) -> float | None:
    """Seconds, from the container header when it says (None when unknown)."""
    container = _open(Path(path))
    try:
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return container.duration / 1_000_000 if container.duration else None
    finally:
        container.close()


def stream(path: str | Path, rate: int = RATE, block_s: float = 10.0) -> Iterator[np.ndarray]:
    """Yield mono float32 blocks of about ``block_s`` seconds at ``rate``, decoding lazily.

    A file cut short (truncated download) yields what it has and logs a warning; only a
    file with no decodable audio at all raises.
    """
    import av

    path = Path(path)
    container = _open(path)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    target = max(1, int(block_s * rate))
    pending: list[np.ndarray] = []
    have = 0
    produced = 0
    try:
        frames = container.decode(container.streams.audio[0])
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                frame = None
            except av.error.FFmpegError as e:
                if produced or have:
                    log.warning("%s: stopped decoding early (%s); using what was read", path, e)
                    frame = None
                else:
                    raise AudioError(f"{path}: the audio cannot be decoded ({_reason(e)}).") from e
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
    finally:
        container.close()
    if not produced:
        raise AudioError(f"{path}: contains no audio samples.")


def load(path: str | Path, rate: int = RATE) -> np.ndarray:
    """The whole file at ``rate`` (for short clips; use :func:`stream` for long ones)."""
    return np.concatenate(list(stream(path, rate)))


def write_wav(path: str | Path, audio: np.ndarray, rate: int) -> Path:
    """16-bit PCM WAV, the format every player opens."""
    import soundfile as sf

    path = Path(path)
    try:
        sf.write(str(path), np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0), rate, subtype="PCM_16")
    except (OSError, RuntimeError) as e:
        raise AudioError(f"Cannot write {path}: {e}") from e
    return path
