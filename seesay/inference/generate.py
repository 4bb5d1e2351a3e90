"""The decode loop: chunked prefill, then plain or speculative steps over a LeanDecoder.

Speculation: a cheap int8 copy of the same model guesses the next tokens on a second
thread (a second core), always running ahead, while the exact model checks what has
been guessed so far in one pass, which costs little more than one step because a
small model's step is bound by reading its weights. Greedy decoding accepts a guess
only when it equals the exact model's own choice; sampling uses the standard
accept/resample rule. Either way the output is the exact model's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import torch

from seesay.inference.decoder import LeanDecoder, Packed
from seesay.inference.engine import GenerationParams
from seesay.inference.sampling import Sampler, penalize, probabilities

log = logging.getLogger(__name__)

PREFILL_CHUNK = 256  # tokens per prefill pass: bounds how long a Stop waits during a long prompt
MAX_AHEAD = 8  # guesses the draft may run ahead of what has been verified
FEED_ROWS = 4
WAIT_S = 0.05  # how long the verifier waits for a first guess before stepping alone


def prefill(dec: LeanDecoder, ids: list[int], start: int,
            cancelled: Callable[[], bool]) -> torch.Tensor | None:
    logits = None
    for i in range(0, len(ids), PREFILL_CHUNK):
        if cancelled():
            return None
        chunk = torch.tensor(ids[i:i + PREFILL_CHUNK], device=dec.device)
        logits = dec.forward(chunk, start + i)
    return logits


class GuessBuffer:
    """The verifier's view of the draft's guesses, shared by the thread and process drafters."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.base: list[int] = []  # the verified sequence the guesses extend
        self.guesses: list[int] = []
        self.probs: list[torch.Tensor | None] = []  # the draft's distribution per guess (sampling)
        self.error: BaseException | None = None

    def resync(self, seq: list[int]) -> None:
        """Call holding ``cond``: ``seq`` is now verified; keep the guesses that still extend it."""
        self.guesses, self.probs = kept_guesses(self.base, self.guesses, self.probs, seq)
        self.base = list(seq)

    def take(self, k: int) -> tuple[list[int], list[torch.Tensor | None]]:
        with self.cond:
            if not self.guesses and self.error is None:
                self.cond.wait(WAIT_S)
            if self.error is not None:
                raise self.error
            return self.guesses[:k], self.probs[:k]


def kept_guesses(base: list[int], guesses: list[int], probs: list[Any],
                 seq: list[int]) -> tuple[list[int], list[Any]]:
    """The guesses that still extend ``seq`` now that it is verified (none if it diverged)."""
    ahead = base + guesses
    if len(ahead) >= len(seq) and ahead[:len(seq)] == seq:
        cut = len(seq) - len(base)
        return guesses[cut:], probs[cut:]
    return [], []


def advance(draft: LeanDecoder, fed: list[int], logits: torch.Tensor | None, seq: list[int],
            cancelled: Callable[[], bool]) -> tuple[list[int], torch.Tensor]:
    """Logits after ``seq``, reusing the cached prefix ``fed`` that the draft already holds."""
    same = 0
    for a, b in zip(fed, seq, strict=False):
        if a != b:
            break
        same += 1
    if same == len(seq) == len(fed) and logits is not None:
        return fed, logits
    if same == len(seq):  # seq is a strict prefix of what was fed: replay its last token
        same -= 1
    out = prefill(draft, seq[same:], same, cancelled)
    if out is None:
        raise InterruptedError
    return list(seq), out


class _Drafter(GuessBuffer, threading.Thread):
    """Keeps up to MAX_AHEAD guesses past the verified sequence, restarting when told."""

    def __init__(self, draft: LeanDecoder, params: GenerationParams, eos_ids: set[int], limit: int) -> None:
        GuessBuffer.__init__(self)
        threading.Thread.__init__(self, name="seesay-draft", daemon=True)
        self.draft = draft
        self.sampler = Sampler(params)
        self.eos_ids = eos_ids
        self.limit = limit
        self.stopped = False
        self._fed: list[int] = []  # tokens whose keys/values sit in the draft cache, in order
        self._logits: torch.Tensor | None = None

    def sync(self, seq: list[int]) -> None:
        """The verified sequence is now ``seq``; keep the guesses that still extend it."""
        with self.cond:
            self.resync(seq)
            self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()

    def run(self) -> None:
        try:
            self._loop()
        except InterruptedError:  # stopped in the middle of a catch-up pass
            return
        except BaseException as e:  # surfaced to the verifier by take()
            log.exception("draft thread failed")
            with self.cond:
                self.error = e
                self.cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self.cond:
                while not self.stopped and (
                        len(self.guesses) >= MAX_AHEAD
                        or (self.guesses and self.guesses[-1] in self.eos_ids)
                        or len(self.base) + len(self.guesses) >= self.limit):
                    self.cond.wait()
                if self.stopped:
                    return
                snapshot = self.base + self.guesses
            self._fed, logits = advance(self.draft, self._fed, self._logits, snapshot, lambda: self.stopped)
            self._logits = logits
            history = torch.tensor(snapshot)
            probs = self.sampler.distribution(logits, history)
            if probs is None:
                guess = int(penalize(logits, history, self.sampler.params.repetition_penalty).argmax())
            else:
                guess = self.sampler.draw(probs)
            with self.cond:
                if self.base + self.guesses == snapshot:
                    self.guesses.append(guess)
                    self.probs.append(probs)
                    self.cond.notify_all()


class DecodeLoop:
    def __init__(self, target: LeanDecoder, draft: Any, eos_ids: set[int]) -> None:
        """``draft``: None, a LeanDecoder (guessing on a thread) or a DraftProcess."""
        self.target = target
        self.draft = draft
        # oneDNN's pre-packed kernels read the weights fastest for about 3-6 rows: on one
        # core a 1-row step takes 46 ms, a 2-row one 56 ms, a 3- to 6-row one 40 ms. So
        # steps and verifications are padded to FEED_ROWS (the padding's cache slots are
        # past the sequence: never attended to, and overwritten by the next real tokens).
        self.feed_rows = FEED_ROWS if target.linear is Packed else 1
        self.eos_ids = eos_ids
        self.drafted = 0
        self.accepted = 0

    @property
    def max_len(self) -> int:
        return self.target.max_len

    def run(self, prompt: list[int], params: GenerationParams,
            cancelled: Callable[[], bool]) -> Iterator[int]:
        """Yield new token ids until EOS, ``max_new_tokens``, the cache end or cancellation."""
        sampler = Sampler(params)
        logits = prefill(self.target, prompt, 0, cancelled)
        if logits is None:
            return
        seq = list(prompt)
        limit = min(len(prompt) + params.max_new_tokens, self.max_len)
        token = sampler.pick(logits, torch.tensor(seq))
        drafter = None
        # A fixed seed must reproduce the reply; with a draft running ahead on its own
        # clock, how much randomness each round uses would depend on timing.
        seeded_sampling = params.seed >= 0 and not params.greedy
        if self.draft is not None and params.max_new_tokens > 1 and not seeded_sampling:
            if isinstance(self.draft, LeanDecoder):
                drafter = _Drafter(self.draft, params, self.eos_ids, limit)
            else:  # a DraftProcess: the same protocol across a pipe
                drafter = self.draft.session(params, self.eos_ids, limit)
            drafter.sync([*seq, token])
            drafter.start()
        try:
            while True:
                if token in self.eos_ids:
                    return
                seq.append(token)
                yield token
                if len(seq) >= limit or cancelled():
                    return
                new = self._round(seq, token, sampler, drafter, limit)
                for t in new[:-1]:
                    if t in self.eos_ids:
                        return
                    seq.append(t)
                    yield t
                    if len(seq) >= limit or cancelled():
                        return
                token = new[-1]
                if drafter is not None:
                    drafter.sync([*seq, token])
        finally:
            if drafter is not None:
                drafter.stop()
                drafter.join()

    def _round(self, seq: list[int], token: int, sampler: Sampler, drafter: Any,
               limit: int) -> list[int]:
        """Verify the guesses ready now (or step once); return the tokens to emit."""
        room = limit - len(seq)
        guesses, guess_probs = drafter.take(room - 1) if drafter is not None and room > 1 else ([], [])
        pad = max(0, min(self.feed_rows, self.max_len - len(seq) + 1) - 1 - len(guesses))
        if not guesses and not pad:
            logits = self.target.step(token, len(seq) - 1)
            return [sampler.pick(logits, torch.tensor(seq))]
        feed = torch.tensor([token, *guesses, *[token] * pad], device=self.target.device)
        rows = self.target.forward(feed, len(seq) - 1, all_logits=True).cpu()
        out: list[int] = []
        for i, guess in enumerate(guesses):
            hist = torch.tensor(seq + out)
            row = penalize(rows[i], hist, sampler.params.repetition_penalty)
            if sampler.params.greedy:
                choice = int(row.argmax())
                ok = choice == guess
            else:
                probs, q = probabilities(row, sampler.params), guess_probs[i]
                assert q is not None
                ok = sampler.uniform() * float(q[guess]) < float(probs[guess])
                if not ok:
                    residual = (probs - q).clamp_min(0)
                    choice = sampler.draw(residual / residual.sum() if residual.sum() > 0 else probs)
            self.drafted += 1
            if not ok:
                return [*out, choice]
            self.accepted += 1
            out.append(guess)
            if guess in self.eos_ids:
                return out
        return [*out, sampler.pick(rows[len(guesses)], torch.tensor(seq + out))]
