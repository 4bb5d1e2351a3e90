from collections.abc import Sequence

from seesay.inference.context import fit, with_system_prompt
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
    assert out[1:-1] == msgs[len(msgs) - len(out) + 1:-1]  # the newest turns survive
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
