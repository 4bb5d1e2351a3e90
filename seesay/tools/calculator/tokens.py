"""The loose expression grammar rewritten into Python's. After the wording is normalized the text
is still looser than Python: "1 1/2", "sqrt 16", "5!", "15% of 240", "2 hours 30 minutes" and
"2(3 + 4)" all need rewriting token by token before :mod:`ast` can parse them, and this is where
a number next to a name becomes a quantity of that unit.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass

from seesay.tools.base import ToolError
from seesay.tools.calculator.functions import _FUNCTION_NAMES, _PERCENT_CALL
from seesay.tools.calculator.values import _CONSTANTS


@dataclass
class _Tok:
    kind: str  # "num", "name" or "op" (operators, parentheses, commas, "!", "%", "√")
    text: str
    quantity: bool = False  # a parenthesis of "(5 * km)": a quantity after one is added ("5 ft 3 in")


_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?")  # 1,234,567.5
_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<num>(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[^\W\d]\w*)"
    r"|(?P<op>\*\*|//|[-+*/^%(),!√])"
)


# Functions that may be written without parentheses ("sqrt 16"); min and max may not: "30 min" is
# half an hour.
_PREFIX_FUNCTIONS = _FUNCTION_NAMES - {"min", "max"}


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    calls: list[bool] = []  # for each open parenthesis: is it a function call's?
    pos = 0
    while pos < len(text):
        if not (calls and calls[-1]) and (grouped := _GROUPED.match(text, pos)):
            tokens.append(_Tok("num", grouped.group().replace(",", "")))
            pos = grouped.end()
            continue
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ToolError(f"Not arithmetic: unexpected {text[pos]!r}.")
        pos = match.end()
        kind = match.lastgroup or ""
        if kind == "space":
            continue
        word = match.group()
        if word == "(":
            calls.append(bool(tokens) and tokens[-1].kind == "name" and tokens[-1].text in _FUNCTION_NAMES)
        elif word == ")" and calls:
            calls.pop()
        tokens.append(_Tok(kind, word))
    return tokens


def _to_python(text: str) -> str:
    tokens = _tokenize(text)
    for rewrite in (_keywords, _mixed_numbers, _prefix_calls, _postfix_factorials, _percents):
        tokens = rewrite(tokens)
    for rewrite in (_quantities, _implicit):
        tokens = rewrite(tokens)
    return " ".join("**" if t.text == "^" else t.text for t in tokens)


def _keywords(tokens: list[_Tok]) -> list[_Tok]:
    """Reads "in" after a number as inches; any other Python keyword is not arithmetic."""
    for t in tokens:
        if t.kind == "name" and keyword.iskeyword(t.text):
            if t.text != "in":
                raise ToolError(f"Not arithmetic: {t.text!r}.")
            t.text = "inch"
    return tokens


def _is_int(t: _Tok) -> bool:
    return t.kind == "num" and t.text.isdigit()


def _mixed_numbers(tokens: list[_Tok]) -> list[_Tok]:
    """Mixed numbers: "1 1/2" -> "(1 + 1/2)"."""
    out: list[_Tok] = []
    i = 0
    while i < len(tokens):
        window = tokens[i : i + 4]
        if (
            len(window) == 4
            and _is_int(window[0])
            and _is_int(window[1])
            and window[2].text == "/"
            and _is_int(window[3])
            and not (out and out[-1].text in ("/", "**", "^"))
        ):
            a, b, _, c = window
            out += [_Tok("op", "("), a, _Tok("op", "+"), b, _Tok("op", "/"), c, _Tok("op", ")")]
            i += 4
            continue
        out.append(tokens[i])
        i += 1
    return out


def _operand_end(tokens: Sequence[_Tok], start: int) -> int:
    """The index just past the operand that begins at ``start`` (a number, name or group)."""
    i = start
    while i < len(tokens) and tokens[i].text in ("-", "+"):
        i += 1
    if i >= len(tokens):
        raise ToolError("Not arithmetic: an operator is missing its number.")
    if tokens[i].kind == "name" and i + 1 < len(tokens) and tokens[i + 1].text == "(":
        i += 1
    if tokens[i].text != "(":
        return i + 1
    depth = 0
    for j in range(i, len(tokens)):
        depth += {"(": 1, ")": -1}.get(tokens[j].text, 0)
        if depth == 0:
            return j + 1
    raise ToolError("Not arithmetic: a parenthesis is not closed.")


def _operand_start(tokens: Sequence[_Tok], end: int) -> int:
    """The index where the operand that ends just before ``end`` begins."""
    i = end - 1
    if i < 0 or (tokens[i].kind == "op" and tokens[i].text != ")"):
        raise ToolError("Not arithmetic: % or ! needs a number before it.")
    if tokens[i].text == ")":
        depth = 0
        while i >= 0:
            depth += {")": 1, "(": -1}.get(tokens[i].text, 0)
            if depth == 0:
                break
            i -= 1
        if i < 0:
            raise ToolError("Not arithmetic: a parenthesis is not opened.")
        if i > 0 and tokens[i - 1].kind == "name" and tokens[i - 1].text in _FUNCTION_NAMES:
            i -= 1
    return i


def _wrap(tokens: list[_Tok], start: int, end: int, function: str) -> list[_Tok]:
    inner = tokens[start:end]
    return [*tokens[:start], _Tok("name", function), _Tok("op", "("), *inner, _Tok("op", ")"), *tokens[end:]]


def _prefix_calls(tokens: list[_Tok]) -> list[_Tok]:
    """Calls without parentheses: "sqrt 16" -> "sqrt(16)", "√2" -> "sqrt(2)"."""
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.text == "√":
            tokens[i] = t = _Tok("name", "sqrt")
        followed = i + 1 < len(tokens)
        if t.kind == "name" and t.text in _PREFIX_FUNCTIONS and followed and tokens[i + 1].text != "(":
            end = _operand_end(tokens, i + 1)
            tokens = [*tokens[: i + 1], _Tok("op", "("), *tokens[i + 1 : end], _Tok("op", ")"), *tokens[end:]]
        i += 1
    return tokens


def _postfix_factorials(tokens: list[_Tok]) -> list[_Tok]:
    """Postfix factorials: "5!" -> "factorial(5)"."""
    while any(t.text == "!" for t in tokens):
        i = next(i for i, t in enumerate(tokens) if t.text == "!")
        start = _operand_start(tokens, i)
        tokens = _wrap(tokens[:i] + tokens[i + 1 :], start, i, "factorial")
    return tokens


def _percents(tokens: list[_Tok]) -> list[_Tok]:
    """Reads "%" before a number as modulo ("17 % 5"), otherwise as a percentage of what precedes it."""
    i = 0
    while i < len(tokens):
        if tokens[i].text != "%":
            i += 1
            continue
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if after is not None and (after.kind == "num" or after.text in ("(", "√") or _is_value_name(after)):
            i += 1
            continue
        start = _operand_start(tokens, i)
        rest = tokens[i + 1 :]
        if rest and rest[0].kind == "name" and rest[0].text.lower() == "of":
            rest[0] = _Tok("op", "*")
        tokens = _wrap(tokens[:i] + rest, start, i, _PERCENT_CALL)
        i = start + 1
    return tokens


def _is_value_name(t: _Tok) -> bool:
    return t.kind == "name" and (t.text in _FUNCTION_NAMES or t.text in _CONSTANTS)


def _ends_operand(tokens: Sequence[_Tok], i: int) -> bool:
    t = tokens[i]
    if t.kind == "name":
        return not (t.text in _FUNCTION_NAMES or t.text == _PERCENT_CALL) or (
            i + 1 < len(tokens) and tokens[i + 1].text != "("
        )
    return t.kind == "num" or t.text == ")"


def _starts_operand(t: _Tok) -> bool:
    return t.kind in ("num", "name") or t.text == "("


def _is_unit_name(tokens: Sequence[_Tok], i: int) -> bool:
    t = tokens[i]
    if t.kind != "name" or t.text in _CONSTANTS:
        return False
    called = i + 1 < len(tokens) and tokens[i + 1].text == "("
    return not (called and (t.text in _FUNCTION_NAMES or t.text == _PERCENT_CALL))


def _quantities(tokens: list[_Tok]) -> list[_Tok]:
    """Groups a number with its unit and the unit's power: "5 km / 2 h" -> "(5 * km) / (2 * h)"."""
    out: list[_Tok] = []
    i = 0
    while i < len(tokens):
        if tokens[i].kind == "num" and i + 1 < len(tokens) and _is_unit_name(tokens, i + 1):
            end = i + 2
            if end + 1 < len(tokens) and tokens[end].text in ("**", "^") and tokens[end + 1].kind == "num":
                end += 2
            quantity = [tokens[i], _Tok("op", "*"), *tokens[i + 1 : end]]
            if _ends_with_fraction_bar(out):  # "3/4 cup" is three quarters of a cup
                quantity = [*out[-2:], *quantity]
                del out[-2:]
            out += [_Tok("op", "(", quantity=True), *quantity, _Tok("op", ")", quantity=True)]
            i = end
            continue
        out.append(tokens[i])
        i += 1
    return out


def _ends_with_fraction_bar(out: Sequence[_Tok]) -> bool:
    if len(out) < 2 or out[-1].text != "/" or out[-2].kind != "num":
        return False
    return len(out) < 3 or out[-3].text not in ("/", "**", "^", ")")


def _implicit(tokens: list[_Tok]) -> list[_Tok]:
    """Adjacent operands: "2 pi" and "2(3 + 4)" multiply, "2 hours 30 minutes" adds."""
    out: list[_Tok] = []
    for i, t in enumerate(tokens):
        if out and _ends_operand(tokens, i - 1) and _starts_operand(t):
            prev = tokens[i - 1]
            is_call = prev.kind == "name" and t.text == "(" and prev.text in (*_FUNCTION_NAMES, _PERCENT_CALL)
            if not is_call:
                after_unit = prev.quantity or (prev.kind == "name" and prev.text not in _CONSTANTS)
                unit_then_number = after_unit and (t.kind == "num" or t.quantity)
                if prev.kind == "num" and t.kind == "num":
                    raise ToolError(f"Not arithmetic: two numbers in a row ({prev.text} {t.text}).")
                out.append(_Tok("op", "+" if unit_then_number else "*"))
        out.append(t)
    return out
