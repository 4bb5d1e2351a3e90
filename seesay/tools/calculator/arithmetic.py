"""Arithmetic on the calculator's values: exact Fractions, approximate Decimals and pint quantities.
Every operation keeps a result exact whenever it can be (a rational power of a perfect power, a
product of Fractions) and only falls back to a 50-digit Decimal when it cannot, checking sizes
first so that a huge power is refused instead of computed.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from decimal import (
    ROUND_FLOOR,
    Decimal,
)
from fractions import Fraction
from typing import Any

import pint
from pint.facets.plain import PlainQuantity, PlainUnit

from seesay.tools.base import ToolError
from seesay.tools.calculator.units import _dimension, _has_units, _simplified, _unit_text, _units
from seesay.tools.calculator.values import (
    MAX_BITS,
    Number,
    Value,
    _checked,
    _DomainError,
    _too_large,
)


def _approx(x: Number) -> Decimal:
    if isinstance(x, Decimal):
        return x
    return Decimal(x.numerator) / Decimal(x.denominator)


def _negate(x: Value) -> Value:
    if isinstance(x, PlainUnit):
        return _units().Quantity(Fraction(-1), x)
    negated: Value = -x
    return negated


def _binary(op: type[ast.operator], a: Value, b: Value) -> Value:
    if _has_units(a) or _has_units(b):
        return _unit_binary(op, a, b)
    assert isinstance(a, Fraction | Decimal) and isinstance(b, Fraction | Decimal)
    if op is ast.Pow:
        return _power(a, b)
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return _checked(Fraction(_OPERATORS[op](a, b)))
    x, y = _approx(a), _approx(b)
    if op is ast.FloorDiv:
        return Fraction((x / y).to_integral_value(ROUND_FLOOR))
    if op is ast.Mod:
        return x - y * (x / y).to_integral_value(ROUND_FLOOR)
    result: Decimal = _OPERATORS[op](x, y)
    return result


_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}


def _divide(a: Value, b: Value) -> Value:
    return _binary(ast.Div, a, b)


def _times(a: Number, b: Number) -> Number:
    result = _binary(ast.Mult, a, b)
    assert isinstance(result, Fraction | Decimal)
    return result


def _power(base: Number, exponent: Number) -> Number:
    if isinstance(base, Decimal) or isinstance(exponent, Decimal):
        return _approx_power(_approx(base), _approx(exponent))
    if exponent.denominator == 1:
        return _int_power(base, exponent.numerator)
    p, q = exponent.numerator, exponent.denominator
    sign = 1
    if base < 0:
        if q % 2 == 0:
            raise _DomainError("The result is not a real number (an even root of a negative number).")
        sign, base = (-1 if p % 2 else 1), -base
    root = _exact_root(base, q)
    if root is not None:
        return sign * _int_power(root, p)
    return sign * _approx_power(_approx(base), _approx(exponent))


def _int_power(base: Fraction, n: int) -> Fraction:
    if base == 0 and n < 0:
        raise ZeroDivisionError
    if abs(base) in (0, 1):
        return base**n
    bits = max(base.numerator.bit_length(), base.denominator.bit_length())
    if (bits - 1) * abs(n) > MAX_BITS:
        raise _too_large()
    return _checked(base**n)


def _approx_power(base: Decimal, exponent: Decimal) -> Decimal:
    if base < 0 and exponent != exponent.to_integral_value():
        raise _DomainError("The result is not a real number (a fractional power of a negative number).")
    if base == 0 and exponent < 0:
        raise ZeroDivisionError
    return base**exponent


def _iroot(n: int, k: int) -> int:
    """The integer k-th root of n >= 0, rounded down."""
    if n < 2:
        return n
    x = 1 << -(-n.bit_length() // k)
    while True:
        y = ((k - 1) * x + n // x ** (k - 1)) // k
        if y >= x:
            return x
        x = y


def _exact_root(x: Fraction, k: int) -> Fraction | None:
    if k > MAX_BITS:
        return None
    num, den = _iroot(x.numerator, k), _iroot(x.denominator, k)
    if num**k == x.numerator and den**k == x.denominator:
        return Fraction(num, den)
    return None


def _plain(x: Value, function: str = "") -> Number:
    """A number; a dimensionless quantity (km / m) becomes its plain value."""
    if isinstance(x, PlainUnit):
        x = _units().Quantity(Fraction(1), x)
    if isinstance(x, PlainQuantity):
        if not x.dimensionless:
            where = f"{function} works" if function else "This works"
            raise ToolError(f"{where} on plain numbers, not on {_unit_text(x)}.")
        return _checked(Fraction(x.to("dimensionless").magnitude))
    return x


def _exact(x: Value) -> Any:
    return _checked(Fraction(x)) if isinstance(x, Decimal) else x


def _unit_binary(op: type[ast.operator], a: Value, b: Value) -> Value:
    a, b = _exact(a), _exact(b)
    quantity = _units().Quantity
    try:
        if op is ast.Mult and isinstance(b, PlainUnit) and isinstance(a, Fraction):
            return quantity(a, b)  # "100 degF": a temperature, not 100 times one degree
        if op is ast.Mult and isinstance(a, PlainUnit) and isinstance(b, Fraction):
            return quantity(b, a)
        if op is ast.Pow:
            exponent: Any = _plain(b)
            if isinstance(a, Fraction | Decimal):
                return _power(a, exponent)
            if isinstance(exponent, Fraction) and exponent.denominator == 1:
                exponent = exponent.numerator
            if isinstance(exponent, int) and abs(exponent) > 100:
                raise _too_large()
            return _simplified(a**exponent)
        if op not in (ast.Mult, ast.Div):  # units multiply and divide as units, else as one of each
            a = quantity(Fraction(1), a) if isinstance(a, PlainUnit) else a
            b = quantity(Fraction(1), b) if isinstance(b, PlainUnit) else b
        return _simplified(_OPERATORS[op](a, b))
    except pint.OffsetUnitCalculusError as e:
        raise ToolError(
            "Temperatures in °C or °F can be converted but not added or multiplied; use kelvin for that."
        ) from e
    except pint.DimensionalityError as e:
        raise ToolError(f"Cannot combine {_dimension(a)} with {_dimension(b)}.") from e
    except (pint.PintError, TypeError, AttributeError, ValueError, OverflowError) as e:
        raise ToolError("Those units cannot be combined that way.") from e
