"""Picking the arithmetic out of a question, so the app can answer without the model when the
question is plainly a calculation. It is deliberately conservative: the text is scanned into
pieces, stretches that could form one expression are kept only when they hold a clear operation
(or a looser one that is the whole question), and a date, a version number, a range or "24/7"
in a sentence is not a sum.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from seesay.tools.calculator.evaluation import _evaluate
from seesay.tools.calculator.functions import _FUNCTION_NAMES
from seesay.tools.calculator.units import _NOT_UNIT_WORDS
from seesay.tools.calculator.values import MAX_INPUT_CHARS, _DomainError
from seesay.tools.calculator.wording import _HOW_MANY, _PERCENT_WORD, _how_many, _normalize, _parse_target


def find_expression(text: str) -> str | None:
    """The arithmetic in a question ("What is 1234 * 5678?" -> "1234 * 5678"), or None.

    Only text with an operation between numbers counts: an operator, a percentage of something,
    a function of a number or a unit conversion. A bare number, a date, a version number or a
    range inside a sentence is not arithmetic.
    """
    if len(text) > MAX_INPUT_CHARS:
        return None
    for candidate in _candidates(text):
        if _accepted(candidate):
            return candidate
    return None


@dataclass
class _Piece:
    kind: str  # num op pct of func post bang const e lp rp comma conv unit word stop
    text: str
    start: int
    end: int
    space_before: bool


_SCAN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+)"
    r"|(?P<word>multiplied\s+by|divided\s+by|(?:raised\s+)?to\s+the\s+power\s+of|raised\s+to"
    r"|square\s+root(?:\s+of)?|cube\s+root(?:\s+of)?|absolute\s+value(?:\s+of)?|per\s+cent"
    r"|[°º]\s*[CFK]\b|deg(?:rees?)?\s+(?:celsius|fahrenheit|centigrade|[cf])\b"
    r"|(?:square|sq|cubic)\s+[^\W\d_]+|[^\W\d_]+)"
    r"|(?P<sym>\*\*|//|->|→|[-+*/^%×÷−–·()!√²³π,])"
    r"|(?P<other>\S)",
    re.I,
)
_OP_WORDS = frozenset(
    {"plus", "minus", "times", "over", "mod", "modulo", "x", "multiplied by", "divided by", "per"}
    | {"to the power of", "raised to the power of", "raised to"}
)
_PERCENT_WORDS = frozenset({"percent", "per cent", "pct"})
_FUNCTION_WORDS = _FUNCTION_NAMES | {
    "square root",
    "square root of",
    "cube root",
    "cube root of",
    "absolute value",
    "absolute value of",
}
_CONVERSION_WORDS = frozenset({"in", "to", "into", "as", "->", "→"})


_UNIT_LETTERS = frozenset("msghlLKFCcfJWVANB")  # the one-letter names read as units in a question
_MINUSES = ("-", "−", "–")
_FILLER = frozenset(
    {"what", "whats", "what's", "is", "how", "much", "calculate", "compute", "evaluate", "solve"}
    | {"please", "can", "could", "would", "you", "tell", "me", "the", "answer", "result", "equals"}
    | {"equal", "hey", "hi", "so", "then", "do", "does", "work", "out", "give", "quick", "quickly"}
)
_DATE_LIKE = re.compile(r"\d+([-/.])\d+\1\d+")  # 2024-05-01, 5/1/2024, 555-123-4567
_ENDS = frozenset({"num", "rp", "const", "e", "pct", "unit", "post", "bang"})
_VALUE_STARTS = frozenset({"num", "lp", "func", "const", "e"})


def _candidates(text: str) -> list[str]:
    """Possible expressions in ``text``, best first."""
    found: list[str] = []
    number = r"\d[\d,]*(?:\.\d+)?"
    percent = _PERCENT_WORD
    for pattern in (
        rf"what\s+{percent}\s+is\s+{number}\s+(?:out\s+)?of\s+{number}",
        rf"{number}\s+is\s+what\s+{percent}\s+of\s+{number}",
        rf"what\s+{percent}\s+of\s+{number}\s+is\s+{number}",
        rf"{number}\s+(?:out\s+)?of\s+{number}\s+as\s+(?:an?\s+)?{percent}",
    ):
        match = re.search(pattern, text, re.I)
        if match:
            found.append(match.group())
    how_many = _HOW_MANY.search(text)
    if how_many:
        found.append(_how_many(how_many.group()) or "")
    found += [t for run in _runs(_scan(text)) if (t := _run_expression(text, run))]
    return [f for f in found if f]


def _accepted(candidate: str) -> bool:
    try:
        _evaluate(candidate)
    except _DomainError:
        return True  # "5 / 0" is still arithmetic; the tool explains what is wrong with it
    except Exception:  # anything else means it is not something the calculator reads
        return False
    return True


def _scan(text: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    space = True
    for match in _SCAN.finditer(text):
        group = match.lastgroup or ""
        if group == "space":
            space = True
            continue
        word = match.group()
        pieces.append(_Piece(_raw_kind(group, word), word, match.start(), match.end(), space))
        space = False
    return pieces


def _raw_kind(group: str, word: str) -> str:
    if group == "num":
        return "num"
    if group == "other":
        return "stop"
    if group == "sym":
        symbols = {"(": "lp", ")": "rp", ",": "comma", "%": "pct", "!": "bang", "√": "func", "π": "const"}
        if word in ("²", "³"):
            return "post"
        if word in ("->", "→"):
            return "conv"
        return symbols.get(word, "op")
    lower = " ".join(word.lower().split())
    if lower in _OP_WORDS:
        return "op"
    if lower in _PERCENT_WORDS:
        return "pct"
    if lower in ("squared", "cubed"):
        return "post"
    if lower in _FUNCTION_WORDS:
        return "func"
    if lower == "pi":
        return "const"
    if lower == "e":
        return "e"
    if lower == "of":
        return "of"
    if lower in _CONVERSION_WORDS:
        return "conv"
    return "unit" if _is_unit_word(word) else "word"


@functools.lru_cache(maxsize=1024)
def _is_unit_word(word: str) -> bool:
    if word.lower() in _NOT_UNIT_WORDS or (len(word) == 1 and word not in _UNIT_LETTERS):
        return False
    normalized = _normalize(word)
    if not normalized or not normalized[0].isalpha():
        return False
    return _parse_target(normalized) is not None


def _fits(kind: str, run: Sequence[_Piece], nxt: _Piece | None, depth: int) -> bool:
    """Whether a piece of this kind can continue ``run`` (or start one, when ``run`` is empty)."""
    prev = run[-1] if run else None
    before_prev = run[-2] if len(run) > 1 else None
    p = prev.kind if prev else None
    if kind == "num":
        mixed = p == "num" and nxt is not None and nxt.text == "/"
        return p in (None, "op", "lp", "comma", "func", "of", "unit") or mixed
    if kind == "op":
        unary = prev is None or p in ("op", "lp", "comma", "of")
        return p in ("num", "rp", "unit", "const", "e", "pct", "post", "bang") or unary
    if kind == "pct":
        return p in ("num", "rp", "const")
    if kind == "of":
        return p == "pct"
    if kind == "lp":
        return p in (None, "op", "lp", "comma", "of", "num", "func", "rp")
    if kind in ("func", "const"):
        return p in (None, "op", "lp", "comma", "of", "num", "func")
    if kind == "conv":
        return p in ("num", "unit", "rp", "post", "pct")
    if kind == "e":
        return p in ("op", "lp", "func", "comma")
    if kind in ("post", "bang"):
        return p in ("num", "rp", "const", "unit")
    if kind == "rp":
        return depth > 0 and p in _ENDS
    if kind == "comma":
        return depth > 0 and p in ("num", "rp", "const")
    if kind == "unit":
        after_unit_op = p == "op" and prev is not None and prev.text in ("/", "*", "per")
        unit_before = before_prev is not None and before_prev.kind == "unit"
        return p in ("num", "conv", "post") or (after_unit_op and unit_before)
    return False


def _runs(pieces: list[_Piece]) -> list[list[_Piece]]:
    """Maximal stretches of pieces that can belong to one expression."""
    runs: list[list[_Piece]] = []
    current: list[_Piece] = []
    depth = 0
    for i, piece in enumerate(pieces):
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        kind = _kind_in_context(piece, current[-1] if current else None, nxt)
        piece = _Piece(kind, piece.text, piece.start, piece.end, piece.space_before)
        if not _fits(kind, current, nxt, depth):
            runs.append(current)
            current, depth = [], 0
            if not _fits(kind, current, nxt, 0):
                continue
        depth += {"lp": 1, "rp": -1}.get(kind, 0)
        current.append(piece)
    runs.append(current)
    return [r for r in (_trimmed(run) for run in runs) if r]


def _kind_in_context(piece: _Piece, prev: _Piece | None, nxt: _Piece | None) -> str:
    """Reads "in" after a number as inches unless a unit follows; "factorial" after a number as postfix."""
    lower = piece.text.lower()
    if piece.kind == "func" and lower == "factorial" and prev is not None and prev.kind in ("num", "rp"):
        return "post"
    if piece.kind != "conv":
        return piece.kind
    target = nxt is not None and nxt.kind == "unit"
    if target and prev is not None and prev.kind in ("num", "unit", "rp", "post", "pct"):
        return "conv"
    followed_by_end = nxt is None or nxt.kind in ("conv", "op", "stop", "rp")
    if lower == "in" and prev is not None and prev.kind == "num" and followed_by_end:
        return "unit"
    return "word"


def _trimmed(run: list[_Piece]) -> list[_Piece]:
    while run and run[-1].kind not in _ENDS:
        run = run[:-1]
    while run and not (
        run[0].kind in _VALUE_STARTS
        or (run[0].text in _MINUSES and len(run) > 1 and run[1].kind in _VALUE_STARTS)
    ):
        run = run[1:]
    depth = 0
    for piece in run:
        depth += {"lp": 1, "rp": -1}.get(piece.kind, 0)
        if depth < 0:
            return []
    return run if depth == 0 else []


def _run_expression(text: str, run: list[_Piece]) -> str | None:
    """The run's text if it holds an operation: a clear one, or a loose one ("10-3", "24/7", "20%")
    when the run is the whole question."""
    expression = text[run[0].start : run[-1].end]
    if _DATE_LIKE.search(expression):
        return None
    clear = loose = False
    for i, piece in enumerate(run):
        prev = run[i - 1] if i else None
        nxt = run[i + 1] if i + 1 < len(run) else None
        if piece.kind == "op":
            if prev is None or prev.kind in ("op", "lp", "comma", "of") or piece.text.lower() == "per":
                continue
            spaced = piece.space_before and nxt is not None and nxt.space_before
            if piece.text in _MINUSES and _looks_like_range(run, i):
                loose = True
            elif piece.text.lower() == "x":
                loose = True  # "a 2 x 4 board", "1920x1080"
            elif piece.text in (*_MINUSES, "/"):
                clear, loose = clear or spaced, loose or not spaced
            else:
                clear = True
        elif piece.kind == "pct":
            if nxt is not None and nxt.kind == "of":
                clear = True
            else:
                loose = True
        elif piece.kind in ("func", "post", "conv"):
            clear = True
        elif piece.kind == "bang":
            loose = True
    if clear or (loose and _is_whole_question(text, run)):
        return expression
    return None


def _looks_like_range(run: list[_Piece], i: int) -> bool:
    """Tells a range from a subtraction: in "5 - 10 minutes" only the second number has the unit."""
    before = run[i - 1] if i >= 1 else None
    after = run[i + 1] if i + 1 < len(run) else None
    unit = run[i + 2] if i + 2 < len(run) else None
    return (
        before is not None
        and before.kind == "num"
        and after is not None
        and after.kind == "num"
        and unit is not None
        and unit.kind == "unit"
    )


def _is_whole_question(text: str, run: list[_Piece]) -> bool:
    rest = (text[: run[0].start] + " " + text[run[-1].end :]).lower().replace("’", "'")
    if re.search(r"\d", rest):
        return False
    return all(word in _FILLER for word in re.findall(r"[^\W\d_]+(?:'[a-z]+)?", rest))
