"""Turning one row of logits into a next token, the way ``generate`` does.

Kept in one place so the lean and the generic decode loops apply exactly the same
output constraint, repetition penalty, temperature, top-k and top-p.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from seesay.inference.engine import GenerationParams


def penalize(logits: Tensor, history: Tensor, penalty: float) -> Tensor:
    """transformers' repetition penalty: shrink the logits of tokens already seen."""
    if penalty == 1.0 or history.numel() == 0:
        return logits
    history = history.to(logits.device)
    seen = logits.gather(0, history)
    seen = torch.where(seen < 0, seen * penalty, seen / penalty)
    return logits.scatter(0, history, seen)


def probabilities(logits: Tensor, params: GenerationParams) -> Tensor:
    """Temperature, then top-k, then top-p, as a normalised distribution."""
    logits = logits / params.temperature
    if 0 < params.top_k < logits.shape[-1]:
        kth = torch.topk(logits, params.top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if params.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop = cumulative - sorted_logits.softmax(-1) > params.top_p
        drop[0] = False
        logits = logits.masked_fill(drop.scatter(0, order, drop), float("-inf"))
    probs = logits.softmax(-1)
    if not bool(torch.isfinite(probs).all()):  # extreme settings: fall back to the top token
        return torch.nn.functional.one_hot(logits.argmax(), logits.shape[-1]).to(probs.dtype)
    return probs


class Sampler:
    """Chooses tokens for one reply; owns its random generator so a seed reproduces it."""

    def __init__(self, params: GenerationParams, constraint: Any = None) -> None:
        """``constraint``: a :class:`~seesay.inference.constrained.Constraint` the reply must obey."""
        self.params = params
        self.constraint = constraint
        self.generator = torch.Generator()
        if params.seed >= 0:
            self.generator.manual_seed(params.seed)
        else:
            self.generator.seed()

    def pick(self, logits: Tensor, history: Tensor) -> int:
        if self.constraint is not None:
            logits = self.constraint.mask(logits)
        logits = penalize(logits, history, self.params.repetition_penalty)
        token = int(logits.argmax()) if self.params.greedy else self.draw(probabilities(logits, self.params))
        if self.constraint is not None:
            self.constraint.consume(token)
        return token

    def draw(self, probs: Tensor) -> int:
        return int(torch.multinomial(probs.cpu(), 1, generator=self.generator))
