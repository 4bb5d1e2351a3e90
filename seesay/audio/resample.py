"""Rational-ratio polyphase resampling in numpy, streamable block by block.

Microphones deliver 44.1 or 48 kHz, Whisper and Silero want 16 kHz and Piper speaks at
22.05 kHz; neither scipy nor soxr is a dependency, so this is a small windowed-sinc
polyphase filter (Kaiser window, ~-80 dB stopband) that keeps only ``taps`` samples of
history between blocks, so a live stream costs constant memory. Each output sample is
one dot product over ``taps`` gathered inputs; the gather is done for at most
:data:`BLOCK` outputs at a time, so however long a block handed in, the working memory
beside its input and output stays a few megabytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from math import ceil, gcd

import numpy as np

ZERO_CROSSINGS = 16  # per side of the sinc; filter quality vs. cost
ROLLOFF = 0.94  # passband edge as a fraction of the lower Nyquist frequency
KAISER_BETA = 8.0
# Outputs computed per gather: the index and tap arrays cost ~16 bytes x taps (32 or more)
# per output, so 4096 keeps them near 2 MB while numpy's per-call overhead stays negligible.
BLOCK = 4096


@lru_cache(maxsize=16)
def _phases(up: int, down: int) -> np.ndarray:
    """Filter taps arranged as ``[phase, k]`` so output ``m`` is one dot product."""
    taps_per_phase = ceil(2 * ZERO_CROSSINGS * max(1.0, down / up))
    n = taps_per_phase * up
    cutoff = ROLLOFF * 0.5 / max(up, down)  # cycles per sample at the upsampled rate
    t = np.arange(n) - (n - 1) / 2
    h = 2 * cutoff * np.sinc(2 * cutoff * t) * np.kaiser(n, KAISER_BETA) * up
    return np.ascontiguousarray(h.reshape(taps_per_phase, up).T.astype(np.float32))


class Resampler:
    """Feed blocks of mono float32 at ``src`` Hz; get blocks at ``dst`` Hz back."""

    def __init__(self, src: int, dst: int) -> None:
        if src <= 0 or dst <= 0:
            raise ValueError(f"sample rates must be positive, got {src} and {dst}")
        g = gcd(int(src), int(dst))
        self.src, self.dst = int(src), int(dst)
        self.up, self.down = self.dst // g, self.src // g
        self.passthrough = self.up == self.down
        if not self.passthrough:
            self._h = _phases(self.up, self.down)
            k = self._h.shape[1]
            self._buf = np.zeros(k - 1, dtype=np.float32)  # history, zeros before the start
            self._buf_start = -(k - 1)  # absolute input index of _buf[0]
            self._n_in = 0  # input samples seen
            self._m = 0  # next output index
        # group delay in output samples, so one-shot use can line output up with input
        self.delay = 0 if self.passthrough else round((self._h.size - 1) / 2 / self.down)

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        if self.passthrough:
            return x.copy()
        self._buf = np.concatenate([self._buf, x])
        self._n_in += len(x)
        m_end = (self.up * self._n_in - 1) // self.down + 1 if self._n_in else 0
        if m_end <= self._m:
            return np.zeros(0, dtype=np.float32)
        k = self._h.shape[1]
        taps = np.arange(k, dtype=np.int64)
        y = np.empty(m_end - self._m, dtype=np.float32)
        for first in range(self._m, m_end, BLOCK):
            m = np.arange(first, min(first + BLOCK, m_end), dtype=np.int64)
            t = m * self.down
            phase, newest = t % self.up, t // self.up
            idx = (newest - self._buf_start)[:, None] - taps[None, :]
            y[first - self._m : first - self._m + len(m)] = np.einsum(
                "mk,mk->m", self._h[phase], self._buf[idx]
            )
        self._m = m_end
        keep_from = (m_end * self.down) // self.up - (k - 1)  # oldest sample the next output needs
        drop = max(0, keep_from - self._buf_start)
        self._buf = self._buf[drop:]
        self._buf_start += drop
        return y

    def flush(self) -> np.ndarray:
        """Push the filter's tail out with zeros (end of a file, not of a live stream)."""
        if self.passthrough:
            return np.zeros(0, dtype=np.float32)
        pad = ceil(self._h.shape[1] * 1.0) + 1
        return self.process(np.zeros(pad, dtype=np.float32))


def resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """One-shot resampling with the filter delay removed, so lengths scale by ``dst/src``."""
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    if src == dst:
        return x.copy()
    parts = list(resample_stream([x], src, dst))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def resample_stream(blocks: Iterable[np.ndarray], src: int, dst: int) -> Iterator[np.ndarray]:
    """Resample a finite stream of blocks as one signal, yielding as each block arrives.

    Unlike :func:`resample` per block, the filter runs across block boundaries (no clicks
    from zero padding between them); like it, the filter delay is removed and the total
    length is ``round(len(input) * dst / src)``, so consecutive pieces line up exactly.
    """
    if src == dst:
        for block in blocks:
            yield np.asarray(block, dtype=np.float32).reshape(-1)
        return
    r = Resampler(src, dst)
    skip, n_in, n_out = r.delay, 0, 0
    for block in blocks:
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        n_in += len(block)
        y = r.process(block)
        dropped = min(skip, len(y))
        y, skip = y[dropped:], skip - dropped
        if len(y):
            n_out += len(y)
            yield y
    tail = r.flush()[skip:]
    tail = tail[: max(0, round(n_in * dst / src) - n_out)]
    if len(tail):
        yield tail


def to_mono(x: np.ndarray) -> np.ndarray:
    """Average channels (frames x channels → frames)."""
    x = np.asarray(x, dtype=np.float32)
    return x if x.ndim == 1 else x.mean(axis=1, dtype=np.float32)
