"""Loose wording rewritten into the calculator's grammar. Small models and people write arithmetic
as prose ("what's 15% of 240?", "how many feet are in a mile", "5 km in miles", "3 × 4", "98.6 F"),
so before anything is parsed the question's framing is stripped, words and symbols become
operators, temperatures and vulgar fractions get their plain spelling, and a trailing "in miles"
is split off as the unit to convert the result to.
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

from pint.facets.plain import PlainUnit

from seesay.tools.calculator.units import _NOT_UNIT_WORDS, _units

_PREFIX = re.compile(
    r"^(?:what\s+is|what's|whats|how\s+much\s+is|calculate|compute|evaluate|convert|solve|please)\b\s*:?\s*",
    re.I,
)
_SUFFIX = re.compile(r"(?:\s*(?:\bplease|[?=]|\.(?!\d)))+$", re.I)


def _clean(text: str) -> str:
    text = " ".join(text.split())
    previous = None
    while previous != text:
        previous = text
        text = _SUFFIX.sub("", _PREFIX.sub("", text)).strip()
    return text


# "what percent is 30 of 120", "30 is what percent of 120", "what percentage of 120 is 30",
# "30 out of 120 as a percentage": each gives A and B, answered as A / B in percent.
_PERCENT_WORD = r"(?:percent(?:age)?|per\s+cent|%)"
_PERCENT_QUESTIONS = [
    re.compile(rf"what\s+{_PERCENT_WORD}\s+is\s+(?P<a>.+?)\s+(?:out\s+)?of\s+(?P<b>.+)", re.I),
    re.compile(rf"(?P<a>.+?)\s+is\s+what\s+{_PERCENT_WORD}\s+of\s+(?P<b>.+)", re.I),
    re.compile(rf"what\s+{_PERCENT_WORD}\s+of\s+(?P<b>.+?)\s+is\s+(?P<a>.+)", re.I),
    re.compile(rf"(?P<a>.+?)\s+(?:out\s+)?of\s+(?P<b>.+?)\s+(?:as|in)\s+(?:an?\s+)?{_PERCENT_WORD}", re.I),
]


_HOW_MANY = re.compile(
    r"how\s+many\s+(?P<unit>[^\W\d]+(?:\s*/\s*[^\W\d]+)?)\s+(?:are\s+(?:there\s+)?in|in|is|are|makes?)\s+"
    r"(?P<amount>an?|one|\d[\d,]*(?:\.\d+)?)\s*(?P<of>[^\W\d]+(?:\s*/\s*[^\W\d]+)?)",
    re.I,
)


def _how_many(text: str) -> str | None:
    """Rewrites "how many feet are in a mile" as "1 mile to feet"."""
    match = _HOW_MANY.fullmatch(text)
    if match is None:
        return None
    amount = "1" if match["amount"].lower() in ("a", "an", "one") else match["amount"]
    return f"{amount} {match['of']} to {match['unit']}"


# Words and symbols rewritten into the expression grammar, in this order.
_REWRITES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.I), r)
    for p, r in [
        (r"\\times|\\cdot|[×·∗⋅]", " * "),
        (r"\\div|[÷∶⁄]", " / "),
        (r"[−–—]", "-"),
        (r"π", " pi "),
        (r"²", " ** 2 "),
        (r"³", " ** 3 "),
        (r"[$€£¥]", ""),
        (r"\b(?:raised\s+)?to\s+the\s+power\s+of\b|\braised\s+to\b", " ** "),
        (r"\bto\s+the\s+(\d+)(?:st|nd|rd|th)\s+power\b", r" ** \1 "),
        (r"\bsquared\b", " ** 2 "),
        (r"\bcubed\b", " ** 3 "),
        (r"\bmultiplied\s+by\b|\btimes\b", " * "),
        (r"\bdivided\s+by\b|\bover\b", " / "),
        (r"\bplus\b", " + "),
        (r"\bminus\b|\bnegative\b", " - "),
        (r"\bmod(?:ulo)?\b", " % "),
        (r"\bper\s*cent(?:age)?\b|\bpct\b", " % "),
        (r"\bper\b", " / "),
        (r"\bsquare\s+root(?:\s+of)?\b", " sqrt "),
        (r"\bcube\s+root(?:\s+of)?\b", " cbrt "),
        (r"\babsolute\s+value(?:\s+of)?\b", " abs "),
        (r"\bnatural\s+log(?:arithm)?(?:\s+of)?\b", " ln "),
        (r"\blog(?:arithm)?\s+of\b", " log "),
        (r"\bfactorial\s+of\b", " factorial "),
        (r"(\d)\s*factorial\b", r"\1 !"),
        (r"\b(?:square|sq)\s+([^\W\d]+)", r" \1**2 "),
        (r"\bcubic\s+([^\W\d]+)", r" \1**3 "),
        (r"(?<=[^\W\d])\s+and\s+(?=\d)", " "),  # "2 hours and 30 minutes"
        (r"\bthe\b", " "),
        (r"(?<=[\d)])(?<!\b0)\s*[xX]\s*(?=[\d(.])", " * "),  # "3 x 4", "1920x1080" (not 0x10)
    ]
]

# Temperatures: a bare F or C means degrees (not farad or coulomb), "°" alone is an angle.
_TEMPERATURES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[°º]\s*([CFK])\b", re.I), r" deg\1 "),
    (re.compile(r"\bdeg(?:rees?)?\s+(?:celsius|centigrade|c)\b", re.I), " degC "),
    (re.compile(r"\bdeg(?:rees?)?\s+(?:fahrenheit|f)\b", re.I), " degF "),
    (re.compile(r"\b(?:celsius|centigrade)\b", re.I), " degC "),
    (re.compile(r"\bfahrenheit\b", re.I), " degF "),
    (re.compile(r"(?<![\w.])[cC](?!\w)"), " degC "),
    (re.compile(r"(?<![\w.])[fF](?!\w)"), " degF "),
    (re.compile(r"\bdeg[kK]\b"), " kelvin "),
    (re.compile(r"degc\b"), "degC"),
    (re.compile(r"degf\b"), "degF"),
    (re.compile(r"[°º]"), " degree "),
]


_VULGAR_FRACTIONS = re.compile("[½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞]")


def _vulgar_fraction(match: re.Match[str]) -> str:
    """Reads "1½" as the mixed number "1 1/2"."""
    return f" {Fraction(unicodedata.numeric(match[0])).limit_denominator(8)}"


def _normalize(text: str) -> str:
    text = _VULGAR_FRACTIONS.sub(_vulgar_fraction, text)
    for pattern, replacement in _TEMPERATURES:
        text = pattern.sub(replacement, text)
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


_CONVERSION = re.compile(r"(?<=\s)(?:in|to|into|as)(?=\s)|->|→|=>", re.I)
Target = PlainUnit | str | None  # a unit, "%" for a percentage, or None to keep the result's unit


def _split_conversion(text: str) -> tuple[str, Target]:
    """Splits "3 ft + 4 in to cm" into ("3 ft + 4 in", cm) at the last keyword before a unit."""
    for match in reversed(list(_CONVERSION.finditer(text))):
        left, right = text[: match.start()].strip(), text[match.end() :].strip()
        target = _parse_target(right) if left else None
        if target is not None:
            return left, target
    return text, None


def _parse_target(text: str) -> Target:
    text = re.sub(r"^(?:an?|the)\s+", "", text, flags=re.I).strip()
    if text in ("%", "percent", "percentage"):
        return "%"
    if not text or not text[0].isalpha() or text.lower() in _NOT_UNIT_WORDS:
        return None
    try:
        unit = _units().parse_units(text)
    except Exception:  # pint raises many kinds of errors for text that is not a unit
        return None
    return unit if isinstance(unit, PlainUnit) else None
