from pathlib import Path

from transformers import AutoTokenizer

from seesay.inference.textstream import IncrementalDecoder, StopMatcher


def test_incremental_decode_equals_full_decode(tiny_model_dir: Path) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = "Héllo wörld 👋🏽 — 東京 is big.\n```python\nprint('x')\n```"
    ids = tok(text)["input_ids"]
    dec = IncrementalDecoder(tok)
    out = "".join(dec.push(i) for i in ids) + dec.flush()
    assert out == tok.decode(ids, skip_special_tokens=True)
    assert "\ufffd" not in out


def test_stop_strings_are_held_back_and_cut() -> None:
    m = StopMatcher(("</s>", "User:"))
    out = []
    for piece in ["Hello", " Us", "e", "r", ": more"]:
        text, stopped = m.push(piece)
        out.append(text)
        if stopped:
            break
    assert "".join(out) == "Hello "
    assert stopped


def test_partial_stop_prefix_released_at_end() -> None:
    m = StopMatcher(("STOP",))
    text, stopped = m.push("abc ST")
    assert (text, stopped) == ("abc ", False)
    assert m.flush() == "ST"
