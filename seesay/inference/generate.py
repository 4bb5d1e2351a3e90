"""The decode loop: chunked prefill, then plain or speculative steps over a LeanDecoder.

Speculation: a cheap int8 copy of the same model guesses a few tokens, the exact
model checks them all in one pass (which costs about as much as one step, because a
small model's step is bound by reading its weights). Greedy decoding accepts a guess
only when it equals the exact model's choice; sampling uses the standard
accept/resample rule, so either way the output follows the exact model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from seesay.inference.decoder import LeanDecoder
from seesay.inference.engine import GenerationParams
from seesay.inference.sampling import Sampler, penalize

PREFILL_CHUNK = 256  # tokens per prefill pass: bounds how long a Stop waits during a long prompt
MIN_DRAFT, MAX_DRAFT = 2, 8


class DecodeLoop:
    def __init__(self, target: LeanDecoder, draft: LeanDecoder | None, eos_ids: set[int]) -> None:
        self.target = target
        self.draft = draft
        self.eos_ids = eos_ids
        self.drafted = 0
        self.accepted = 0

    @property
    def max_len(self) -> int:
        return self.target.max_len

    def _prefill(self, dec: LeanDecoder, ids: list[int], start: int,
                 cancelled: Callable[[], bool]) -> torch.Tensor | None:
        logits = None
        for i in range(0, len(ids), PREFILL_CHUNK):
            if cancelled():
                return None
            chunk = torch.tensor(ids[i:i + PREFILL_CHUNK], device=dec.device)
            logits = dec.forward(chunk, start + i)
        return logits

    def run(self, prompt: list[int], params: GenerationParams,
            cancelled: Callable[[], bool]) -> Iterator[int]:
        """Yield new token ids until EOS, ``max_new_tokens``, the cache end or cancellation."""
        sampler = Sampler(params)
        logits = self._prefill(self.target, prompt, 0, cancelled)
        if logits is None:
            return
        seq = list(prompt)
        limit = min(len(prompt) + params.max_new_tokens, self.max_len)
        token = sampler.pick(logits, torch.tensor(seq, device=logits.device))
        draft_fed = 0
        k = 4
        use_draft = self.draft is not None
        while True:
            if token in self.eos_ids:
                return
            seq.append(token)
            yield token
            if len(seq) >= limit or cancelled():
                return
            room = limit - len(seq)
            if use_draft and room > 1:
                new, draft_fed, k = self._speculate(seq, draft_fed, min(k, room - 1), sampler, cancelled)
                if not new:
                    return
                for t in new[:-1]:
                    if t in self.eos_ids:
                        return
                    seq.append(t)
                    yield t
                    if len(seq) >= limit or cancelled():
                        return
                token = new[-1]
                if self.drafted > 32 and self.accepted < 0.3 * self.drafted:
                    use_draft = False  # guesses rarely hold for this text: plain steps are faster
            else:
                logits = self.target.step(token, len(seq) - 1)
                token = sampler.pick(logits, torch.tensor(seq, device=logits.device))

    def _speculate(self, seq: list[int], draft_fed: int, k: int, sampler: Sampler,
                   cancelled: Callable[[], bool]) -> tuple[list[int], int, int]:
        """One draft-and-verify round; returns (tokens to emit, draft cache length, next k)."""
        draft = self.draft
        assert draft is not None
        logits = self._prefill(draft, seq[draft_fed:], draft_fed, cancelled)
        if logits is None:
            return [], draft_fed, k
        draft_fed = len(seq)
        history = torch.tensor(seq)
        guesses: list[int] = []
        guess_probs: list[torch.Tensor] = []
        for i in range(k):
            probs = sampler.distribution(logits, torch.cat([history, torch.tensor(guesses, dtype=torch.long)]))
            if probs is None:
                hist = torch.cat([history, torch.tensor(guesses, dtype=torch.long)])
                guess = int(penalize(logits, hist, sampler.params.repetition_penalty).argmax())
            else:
                guess = sampler.draw(probs)
                guess_probs.append(probs)
            guesses.append(guess)
            if guess in self.eos_ids or i == k - 1 or cancelled():
                break
            logits = draft.forward(torch.tensor([guess]), draft_fed)
            draft_fed += 1
        feed = torch.tensor([seq[-1], *guesses], device=self.target.device)
        rows = self.target.forward(feed, len(seq) - 1, all_logits=True).cpu()
        out: list[int] = []
        matched = 0
        for i, guess in enumerate(guesses):
            hist = torch.tensor(seq + out)
            probs = sampler.distribution(rows[i], hist)
            if probs is None:
                choice = int(penalize(rows[i], hist, sampler.params.repetition_penalty).argmax())
                ok = choice == guess
            else:
                q = guess_probs[i]
                ok = sampler.uniform() * float(q[guess]) < float(probs[guess])
                if not ok:
                    residual = (probs - q).clamp_min(0)
                    choice = sampler.draw(residual / residual.sum() if residual.sum() > 0 else probs)
            if not ok:
                out.append(choice)
                break
            out.append(guess)
            matched += 1
            if guess in self.eos_ids:
                break
        else:
            out.append(sampler.pick(rows[len(guesses)], torch.tensor(seq + out)))
        self.drafted += len(guesses)
        self.accepted += matched
        draft_fed = min(draft_fed, len(seq) + matched)
        k = min(k + 2, MAX_DRAFT) if matched == len(guesses) else max(MIN_DRAFT, k - 1)
        return out, draft_fed, k
