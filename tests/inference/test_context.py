from collections.abc import Sequence

import pytest

from seesay.chat import with_system_prompt
from seesay.inference.context import fit
from seesay.inference.engine import Message


def count(messages: Sequence[Message]) -> int:
    """One token per word plus four per message: a stand-in tokenizer with known sizes."""
    return sum(len(m["content"].split()) + 4 for m in messages)


def convo(n: int) -> list[Message]:
    msgs: list[Message] = [{"role": "system", "content": "be brief"}]
    for i in range(n):
        msgs.append({"role": "user", "content": f"question {i} " + "word " * 10})
        msgs.append({"role": "assistant", "content": f"answer {i} " + "word " * 10})
    msgs.append({"role": "user", "content": "latest question"})
    return msgs


def test_fits_untouched() -> None:
    msgs = convo(2)
    out, report = fit(msgs, count, 1000)
    assert out == msgs and not report


def test_drops_oldest_turns_keeps_system_and_latest() -> None:
    msgs = convo(10)
    out, report = fit(msgs, count, 80)
    assert out[0] == msgs[0]
    assert out[-1] == msgs[-1]
    assert count(out) <= 80
    assert report.dropped_messages == len(msgs) - len(out)
    assert out[1:-1] == msgs[len(msgs) - len(out) + 1 : -1]  # the newest turns survive
    assert "left out" in report.describe()


def test_huge_latest_message_is_truncated_and_reported() -> None:
    paste = "x " * 500_000  # a 1 MB paste
    msgs: list[Message] = [{"role": "system", "content": "sys"}, {"role": "user", "content": paste}]
    out, report = fit(msgs, count, 100)
    assert count(out) <= 100
    assert out[0]["content"] == "sys"
    assert paste.startswith(out[-1]["content"])
    assert report.truncated_chars == len(paste) - len(out[-1]["content"])
    assert "cut by" in report.describe()


def test_system_prompt_added_once() -> None:
    msgs: list[Message] = [{"role": "user", "content": "hi"}]
    assert with_system_prompt(msgs, "sys")[0] == {"role": "system", "content": "sys"}
    assert with_system_prompt(msgs, "  ") == msgs
    own: list[Message] = [{"role": "system", "content": "mine"}, *msgs]
    assert with_system_prompt(own, "sys") == own


def test_trimming_takes_a_handful_of_counts_however_long_the_history() -> None:
    """Each count is a round trip to the tokenizer: 93 of them once took 1 s on a loaded machine."""
    calls = {"n": 0, "chars": 0}

    def counting(messages: Sequence[Message]) -> int:
        calls["n"] += 1
        calls["chars"] += sum(len(m["content"]) for m in messages)
        return count(messages)

    msgs = convo(1000)  # 2,002 messages, ~28,000 "tokens"
    out, report = fit(msgs, counting, 500)
    assert count(out) <= 500 and report.dropped_messages > 1900
    assert calls["n"] <= 12
    assert calls["chars"] < sum(len(m["content"]) for m in msgs)


@pytest.mark.parametrize("seed", range(60))
def test_trimming_drops_only_the_turns_that_must_go(seed: int) -> None:
    """Turns of very different density (code, prose, one-word replies) mislead the estimate;
    the fewest oldest turns whose dropping fits are still the ones dropped."""
    import math
    import random

    rng = random.Random(seed)
    msgs: list[Message] = [{"role": "system", "content": "be brief"}]
    for i in range(rng.randint(1, 300)):
        words = rng.choice([1, 3, 40, 200])
        chars = rng.choice([1, 4, 14])  # letters a word: the same tokens in more or less text (<= 16 a token)
        role = "user" if i % 2 == 0 else "assistant"
        msgs.append({"role": role, "content": " ".join(["w" * chars] * words)})
    msgs.append({"role": "user", "content": "latest question"})
    budget = rng.randint(20, count(msgs) + 10)
    calls = []
    out, report = fit(msgs, lambda m: calls.append(m) or count(m), budget)
    assert len(calls) <= 2 * math.log2(len(msgs)) + 4
    k = report.dropped_messages
    assert out == [msgs[0], *msgs[1 + k :]]
    assert count(out) <= budget
    if k:
        assert count([msgs[0], *msgs[k:]]) > budget  # keeping one more would not fit


def test_fit_window_leaves_the_reply_half_at_most() -> None:
    from seesay.errors import EngineError
    from seesay.inference.context import fit_window

    fitted = fit_window(convo(10), count, window=200, max_new_tokens=512)
    assert fitted.max_new_tokens == 100 and fitted.prompt_tokens <= 100
    assert fitted.prompt_tokens == count(fitted.messages)
    short = fit_window(convo(1), count, window=200, max_new_tokens=16)
    assert short.max_new_tokens == 16 and not short.trim
    huge_system: list[Message] = [
        {"role": "system", "content": "rule " * 300},
        {"role": "user", "content": "hi"},
    ]
    with pytest.raises(EngineError, match="custom instructions alone"):
        fit_window(huge_system, count, window=200, max_new_tokens=16)
