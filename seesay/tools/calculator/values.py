"""The shared ground of the calculator: its limits, its value types and the error for a question
without an answer. Every stage (reading, arithmetic, units, output) refers to these, so they live
apart from all of them: a Fraction is exact, a Decimal is always an approximation, and anything
whose numerator or denominator outgrows ``MAX_BITS`` is refused before it can exhaust memory.
"""

from __future__ import annotations

import math
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction
from typing import Any

from pint.facets.plain import PlainQuantity, PlainUnit

from seesay.tools.base import ToolError

MAX_INPUT_CHARS = 1_000
# 13,000 bits is about 3,900 decimal digits: below Python's 4,300-digit int-to-text limit.
MAX_BITS = 13_000
MAX_DIGITS = int(MAX_BITS * math.log10(2))
APPROX_DIGITS = 10  # significant digits shown for an approximate number
UNIT_DIGITS = 6  # significant digits shown for a converted measurement that is not short and exact
MAX_DECIMAL_PLACES = 30  # longer terminating decimals are shown as a fraction instead

_CONTEXT = Context(
    prec=50,
    rounding=ROUND_HALF_EVEN,
    Emax=100_000,
    Emin=-100_000,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
_PI = Decimal("3.14159265358979323846264338327950288419716939937510582097494459")
_E = Decimal("2.71828182845904523536028747135266249775724709369995957496696763")
_CONSTANTS = {"pi": _PI, "e": _E}

Number = Fraction | Decimal  # a Decimal is always an approximation
Quantity = PlainQuantity[Any]
Value = Fraction | Decimal | Quantity | PlainUnit


class _DomainError(ToolError):
    """Well-formed arithmetic without an answer (division by zero, a result too large)."""


def _too_large() -> _DomainError:
    return _DomainError(f"The result is too large to compute exactly (over {MAX_DIGITS:,} digits).")


def _checked(x: Fraction) -> Fraction:
    if max(x.numerator.bit_length(), x.denominator.bit_length()) > MAX_BITS:
        raise _too_large()
    return x
