"""Turning one row of logits into a next token, the way ``generate`` does.

Kept in one place so the plain and the speculative decode loops apply exactly the
same repetition penalty, temperature, top-k and top-p, which is what makes
speculative sampling reproduce the model's own distribution.
"""

from __future__ import annotations

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

    def __init__(self, params: GenerationParams) -> None:
        self.params = params
        self.generator = torch.Generator()
        if params.seed >= 0:
            self.generator.manual_seed(params.seed)
        else:
            self.generator.seed()

    def distribution(self, logits: Tensor, history: Tensor) -> Tensor | None:
        """The sampling distribution, or None for greedy decoding."""
        logits = penalize(logits, history, self.params.repetition_penalty)
        if self.params.greedy:
            return None
        return probabilities(logits, self.params)

    def pick(self, logits: Tensor, history: Tensor) -> int:
        logits = penalize(logits, history, self.params.repetition_penalty)
        if self.params.greedy:
            return int(logits.argmax())
        return self.draw(probabilities(logits, self.params))

    def draw(self, probs: Tensor) -> int:
        return int(torch.multinomial(probs.cpu(), 1, generator=self.generator))

    def uniform(self) -> float:
        return float(torch.rand(1, generator=self.generator))
