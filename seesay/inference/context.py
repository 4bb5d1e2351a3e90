"""Keeping a conversation inside the model's context window.

The rule users can predict: the system prompt and the latest user message always
stay; the oldest other turns go first; if the latest message alone is too long it
is cut at the end. What was left out is reported so the UI can say so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from seesay.errors import EngineError
from seesay.inference.engine import Message, TrimReport

CountTokens = Callable[[Sequence[Message]], int]
# No tokenizer packs more than this many characters into one token on real text, so a
# huge paste can be cut to budget * this before it is tokenized at all.
MAX_CHARS_PER_TOKEN = 16


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
    """``count`` remembering its last answer, so the prompt ``fit`` settles on is counted once."""

    def __init__(self, count: CountTokens) -> None:
        self._count = count
        self._key: list[Message] | None = None
        self._value = 0

    def __call__(self, messages: Sequence[Message]) -> int:
        if self._key != list(messages):
            self._key, self._value = list(messages), self._count(messages)
        return self._value


def fit(messages: Sequence[Message], count: CountTokens, budget: int) -> tuple[list[Message], TrimReport]:
    """The conversation cut to ``budget`` tokens, in time linear in its length.

    Each round drops the oldest turns whose own token counts cover the excess, then
    counts the whole conversation once more (template tokens between turns make a
    turn's own count a close estimate, so this ends in a round or two).
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
    total = count(msgs)
    while total > budget:
        droppable = [i for i, m in enumerate(msgs[:-1]) if m["role"] != "system"]
        if not droppable:
            break
        excess, drop = total - budget, set()
        for i in droppable:
            drop.add(i)
            excess -= count([msgs[i]])
            if excess <= 0:
                break
        msgs = [m for i, m in enumerate(msgs) if i not in drop]
        report.dropped_messages += len(drop)
        total = count(msgs)
    if total > budget:
        msgs[-1], cut = _truncate(msgs, count, budget)
        report.truncated_chars += cut
    return msgs, report


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
