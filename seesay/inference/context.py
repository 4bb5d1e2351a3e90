"""Keeping a conversation inside the model's context window.

The rule users can predict: the system prompt and the latest user message always
stay; the oldest other turns go first; if the latest message alone is too long it
is cut at the end. What was left out is reported so the UI can say so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from seesay.errors import EngineError
from seesay.inference.engine import Message, TrimReport

CountTokens = Callable[[Sequence[Message]], int]
# No tokenizer packs more than this many characters into one token on real text, so a
# huge paste can be cut to budget * this before it is tokenized at all.
MAX_CHARS_PER_TOKEN = 16
# English prose has about four; only the first guess of how much fits uses it.
GUESS_CHARS_PER_TOKEN = 4


@dataclass
class Fitted:
    """One request cut to the model's window: what is sent and how long the reply may be."""

    messages: list[Message]
    trim: TrimReport
    prompt_tokens: int
    max_new_tokens: int


class Cancelled(Exception):
    """The reply was stopped while its conversation was being fitted."""


def fit_window(
    messages: Sequence[Message],
    count: CountTokens,
    window: int,
    max_new_tokens: int,
    cancelled: Callable[[], bool] = lambda: False,
) -> Fitted:
    """The reply gets up to half the window; the conversation is cut (see :func:`fit`) to the rest.

    ``cancelled`` is asked before each count: a client that goes away while a long history
    is tokenized frees its worker at once, not when the fitting is done (raises
    :class:`Cancelled`).
    """
    count = _LastCount(_cancellable(count, cancelled))
    reply = min(max_new_tokens, window // 2)
    fitted, trim = fit(messages, count, window - reply)
    prompt = count(fitted)
    if prompt + 1 > window:
        raise EngineError(
            "The custom instructions alone fill the model's context window; shorten them in Settings."
        )
    return Fitted(fitted, trim, prompt, max(1, min(reply, window - prompt)))


def _cancellable(count: CountTokens, cancelled: Callable[[], bool]) -> CountTokens:
    def checked(messages: Sequence[Message]) -> int:
        if cancelled():
            raise Cancelled
        return count(messages)

    return checked


class _LastCount:
    """``count`` remembering its last few answers, so the prompt ``fit`` settles on (not
    always the last it counted) is not counted again."""

    KEEP = 8

    def __init__(self, count: CountTokens) -> None:
        self._count = count
        self._seen: list[tuple[list[Message], int]] = []

    def __call__(self, messages: Sequence[Message]) -> int:
        key = list(messages)
        for seen, value in self._seen:
            if seen == key:
                return value
        value = self._count(messages)
        self._seen = [(key, value), *self._seen[: self.KEEP - 1]]
        return value


def fit(messages: Sequence[Message], count: CountTokens, budget: int) -> tuple[list[Message], TrimReport]:
    """The conversation cut to ``budget`` tokens with a handful of counts, however long it is.

    What is dropped is always the ``k`` oldest turns, and exactly the fewest that must go.
    ``k`` is searched between the most drops known to be over budget and the fewest known
    to fit: each guess estimates turns' tokens from their characters at the last count's
    tokens per character, and a guess the estimate cannot place gallops, then bisects.
    The first guess keeps about a window's worth of text, so every count is about a
    window long: each is a round trip to the tokenizer (~30 ms for a window) and a
    cancelled request is noticed between two of them.
    """
    msgs = list(messages)
    report = TrimReport()
    if not msgs:
        return msgs, report
    last = len(msgs) - 1
    cap = budget * MAX_CHARS_PER_TOKEN
    if len(msgs[last]["content"]) > cap:
        report.truncated_chars += len(msgs[last]["content"]) - cap
        msgs[last] = {"role": msgs[last]["role"], "content": msgs[last]["content"][:cap]}
    msgs, report.dropped_messages = _beyond_reach(msgs, cap)
    drops = _Drops(msgs, count, budget)
    k, total = drops.fewest()
    report.dropped_messages += k
    msgs = drops.kept(k)
    if total > budget:
        msgs[-1], cut = _truncate(msgs, count, budget)
        report.truncated_chars += cut
    return msgs, report


class _Drops:
    """The search for how many of the oldest turns to drop (see :func:`fit`)."""

    def __init__(self, msgs: list[Message], count: CountTokens, budget: int) -> None:
        self.msgs, self.count, self.budget = msgs, count, budget
        # the turns that may go, oldest first: all but the system prompts and the latest
        self.droppable = [i for i in range(len(msgs) - 1) if msgs[i]["role"] != "system"]
        self.sizes = sizes = [len(msgs[i]["content"]) for i in self.droppable]
        fixed = sum(len(m["content"]) for m in msgs) - sum(sizes)
        # chars[k]: characters left once the k oldest turns are dropped
        self.chars = [fixed + left for left in reversed([0, *accumulate(reversed(sizes))])]

    def kept(self, k: int) -> list[Message]:
        """The conversation without its ``k`` oldest droppable turns."""
        gone = set(self.droppable[:k])
        return [m for i, m in enumerate(self.msgs) if i not in gone]

    def tokens(self, k: int) -> int:
        return self.count(self.kept(k))

    def fewest(self) -> tuple[int, int]:
        """The fewest drops that fit and their token count, or every drop and its (over) count."""
        n, budget = len(self.sizes), self.budget
        guess_chars = budget * GUESS_CHARS_PER_TOKEN
        k = next(k for k in range(n + 1) if k == n or self.chars[k] <= guess_chars)
        over, fits, fits_total, step = -1, -1, 0, 1  # over: most drops known over; fits: fewest known to fit
        while True:
            total = self.tokens(k)
            if total <= budget:
                fits, fits_total = k, total
            else:
                over = k
            if (fits >= 0 and fits - over <= 1) or (fits < 0 and k == n):
                return (fits, fits_total) if fits >= 0 else (n, total)
            guess = self._estimate(k, total)
            if over < guess and (fits < 0 or guess < fits):
                step = 1
            else:  # the estimate points outside what is left open: gallop from the side it failed on
                guess = fits - step if total <= budget else over + step
                step *= 2
                if guess <= over or (fits >= 0 and guess >= fits):
                    guess = (over + fits) // 2
            k = min(guess, n)

    def _estimate(self, k: int, total: int) -> int:
        """Drops that would just fit, if every turn had the tokens per character just counted."""
        per_char = total / max(1, self.chars[k])
        room = float(self.budget - total)
        if room < 0:
            while k < len(self.sizes) and room < 0:
                room += max(1.0, self.sizes[k] * per_char)
                k += 1
        else:
            while k > 0 and self.sizes[k - 1] * per_char <= room:
                room -= self.sizes[k - 1] * per_char
                k -= 1
        return k


def _beyond_reach(msgs: list[Message], cap: int) -> tuple[list[Message], int]:
    """Drop, without tokenizing, the old turns that cannot fit whatever the tokenizer.

    Walking back from the newest turn, once the kept text passes ``cap`` characters
    (``budget * MAX_CHARS_PER_TOKEN``) it is over budget, so that turn and all older
    ones go. What is left to count exactly is bounded by the window, not by the length
    of the conversation: a 0.5 MB history costs no more to fit than a window's worth.
    """
    last = len(msgs) - 1
    chars = sum(len(m["content"]) for m in msgs if m["role"] == "system") + len(msgs[last]["content"])
    oldest_kept = last
    for i in range(last - 1, -1, -1):
        if msgs[i]["role"] == "system":
            continue
        chars += len(msgs[i]["content"])
        if chars > cap:
            break
        oldest_kept = i
    kept = [m for i, m in enumerate(msgs) if i >= oldest_kept or m["role"] == "system" or i == last]
    return kept, len(msgs) - len(kept)


def _truncate(msgs: list[Message], count: CountTokens, budget: int) -> tuple[Message, int]:
    """Longest prefix of the last message that fits (binary search on characters)."""
    head, content = msgs[:-1], msgs[-1]["content"]
    role = msgs[-1]["role"]
    lo, hi = 0, len(content)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count([*head, {"role": role, "content": content[:mid]}]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return {"role": role, "content": content[:lo]}, len(content) - lo
