"""The decode loop over a LeanDecoder: chunked prefill, then one step per token."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from seesay.inference.decoder import LeanDecoder
from seesay.inference.engine import GenerationParams
from seesay.inference.sampling import Sampler

PREFILL_CHUNK = 256  # tokens per prefill pass: bounds how long a Stop waits during a long prompt


def prefill(
    dec: LeanDecoder, ids: list[int], start: int, cancelled: Callable[[], bool]
) -> torch.Tensor | None:
    logits = None
    for i in range(0, len(ids), PREFILL_CHUNK):
        if cancelled():
            return None
        chunk = torch.tensor(ids[i : i + PREFILL_CHUNK], device=dec.device)
        logits = dec.forward(chunk, start + i)
    return logits


class DecodeLoop:
    def __init__(self, target: LeanDecoder, eos_ids: set[int]) -> None:
        self.target = target
        self.eos_ids = eos_ids

    @property
    def max_len(self) -> int:
        return self.target.max_len

    def run(
        self,
        prompt: list[int],
        params: GenerationParams,
        cancelled: Callable[[], bool],
        sampler: Sampler | None = None,
    ) -> Iterator[int]:
        """Yield new token ids until EOS, ``max_new_tokens``, the cache end or cancellation."""
        sampler = sampler or Sampler(params)
        logits = prefill(self.target, prompt, 0, cancelled)
        if logits is None:
            return
        seq = list(prompt)
        limit = min(len(prompt) + params.max_new_tokens, self.max_len)
        while True:
            token = sampler.pick(logits, torch.tensor(seq))
            if token in self.eos_ids:
                return
            seq.append(token)
            yield token
            if len(seq) >= limit or cancelled():
                return
            logits = self.target.step(token, len(seq) - 1)
