"""The named functions the calculator accepts (sqrt, round, log, factorial, min, ...) and how many
arguments each takes. Each keeps an exact answer when there is one (sqrt(16) is 4, log(1000) is 3)
and says plainly when a function has no real answer, so the whitelist in one place is also the
list shown to the user when a name is unknown.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from decimal import (
    Decimal,
)
from fractions import Fraction
from typing import Any

import pint
from pint.facets.plain import PlainUnit

from seesay.tools.base import ToolError
from seesay.tools.calculator.arithmetic import (
    _approx,
    _approx_power,
    _binary,
    _exact_root,
    _int_power,
    _negate,
)
from seesay.tools.calculator.units import _units
from seesay.tools.calculator.values import (
    MAX_BITS,
    MAX_DIGITS,
    Number,
    Value,
    _DomainError,
    _too_large,
)

_FUNCTION_NAMES = frozenset(
    {"sqrt", "cbrt", "abs", "round", "min", "max", "factorial", "floor", "ceil", "ln", "log", "log2", "exp"}
)
_PERCENT_CALL = "_pct"


def _whole(x: Number, function: str) -> int:
    if isinstance(x, Decimal) or x.denominator != 1:
        raise _DomainError(f"{function} needs a whole number.")
    return x.numerator


def _sqrt(x: Number) -> Number:
    if x < 0:
        raise _DomainError("The square root of a negative number is not a real number.")
    if isinstance(x, Fraction):
        root = _exact_root(x, 2)
        if root is not None:
            return root
    return _approx(x).sqrt()


def _cbrt(x: Number) -> Number:
    sign = -1 if x < 0 else 1
    if isinstance(x, Fraction):
        root = _exact_root(sign * x, 3)
        if root is not None:
            return sign * root
    return sign * _approx_power(sign * _approx(x), Decimal(1) / 3)


def _round(x: Number, places: Number = Fraction(0)) -> Fraction:
    """Rounded half away from zero, as people round (Python's round() rounds half to even)."""
    digits = _whole(places, "round's second argument")
    if abs(digits) > MAX_DIGITS:
        raise _too_large()
    scale = Fraction(10) ** digits
    scaled = Fraction(x) * scale
    rounded = math.floor(abs(scaled) + Fraction(1, 2))
    return Fraction(rounded if scaled >= 0 else -rounded) / scale


def _factorial(x: Number) -> Fraction:
    n = _whole(x, "factorial")
    if n < 0:
        raise _DomainError("factorial needs a whole number of 0 or more.")
    if n > 100_000 or math.lgamma(n + 1) / math.log(2) > MAX_BITS:
        raise _too_large()
    return Fraction(math.factorial(n))


def _ln(x: Number) -> Number:
    if x <= 0:
        raise _DomainError("The logarithm is only defined for numbers above 0.")
    return Fraction(0) if x == 1 else _approx(x).ln()


def _log(x: Number, base: Number = Fraction(10)) -> Number:
    if x <= 0 or base <= 0 or base == 1:
        raise _DomainError("The logarithm needs a number above 0 and a base above 0 other than 1.")
    estimate = _approx(x).log10() / _approx(base).log10()
    if isinstance(x, Fraction) and isinstance(base, Fraction):
        # log(1000) is exactly 3: try the nearest whole exponent.
        k = int(estimate.to_integral_value())
        if abs(k) <= MAX_BITS:
            try:
                if _int_power(base, k) == x:
                    return Fraction(k)
            except _DomainError:
                pass
    return estimate


def _exp(x: Number) -> Number:
    return Fraction(1) if x == 0 else _approx(x).exp()


def _floor(x: Number) -> Fraction:
    return Fraction(math.floor(x))


def _ceil(x: Number) -> Fraction:
    return Fraction(math.ceil(x))


def _percent(x: Value) -> Value:
    return _binary(ast.Div, x, Fraction(100))


def _compare(choose: Callable[..., Any]) -> Callable[..., Value]:
    def pick(*args: Value) -> Value:
        values = [_units().Quantity(Fraction(1), a) if isinstance(a, PlainUnit) else a for a in args]
        try:
            chosen: Value = choose(values)
        except (pint.DimensionalityError, TypeError, ValueError) as e:
            raise ToolError("Cannot compare numbers with different kinds of units.") from e
        return chosen

    return pick


def _abs(x: Value) -> Value:
    if isinstance(x, PlainUnit):
        return _units().Quantity(Fraction(1), x)
    return _negate(x) if x < 0 else x


_FUNCTIONS: dict[str, Callable[..., Value]] = {
    "sqrt": _sqrt,
    "cbrt": _cbrt,
    "abs": _abs,
    "round": _round,
    "min": _compare(min),
    "max": _compare(max),
    "factorial": _factorial,
    "floor": _floor,
    "ceil": _ceil,
    "ln": _ln,
    "log": _log,
    "log2": lambda x: _log(x, Fraction(2)),
    "exp": _exp,
    _PERCENT_CALL: _percent,
}
_ARITY: dict[str, tuple[int, int]] = {name: (1, 1) for name in _FUNCTIONS} | {
    "round": (1, 2),
    "log": (1, 2),
    "min": (1, 999),
    "max": (1, 999),
}
