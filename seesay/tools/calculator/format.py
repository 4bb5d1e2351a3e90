"""How the calculator's answers are written. The chat model repeats the answer verbatim, so an
exact number is shown exactly ("0.875", "2**100" in full), an approximation always carries "≈",
a percentage ends in "%" and a measurement is converted, tidied ("100 km/h * 30 min" is 50 km)
and written with readable unit symbols.
"""

from __future__ import annotations

from decimal import (
    Decimal,
    localcontext,
)
from fractions import Fraction

import pint
from pint.facets.plain import PlainQuantity, PlainUnit

from seesay.tools.base import ToolError
from seesay.tools.calculator.arithmetic import _approx, _plain, _times
from seesay.tools.calculator.units import _dimension, _simplified, _unit_text, _units
from seesay.tools.calculator.values import (
    APPROX_DIGITS,
    MAX_BITS,
    MAX_DECIMAL_PLACES,
    UNIT_DIGITS,
    Number,
    Quantity,
    Value,
)
from seesay.tools.calculator.wording import Target


def _result_text(value: Value, target: Target) -> str:
    if isinstance(value, PlainUnit):
        value = _units().Quantity(Fraction(1), value)
    if isinstance(target, str):  # "%"
        return _percent_text(_times(_plain(value), Fraction(100)))
    if isinstance(target, PlainUnit):
        if not isinstance(value, PlainQuantity):
            raise ToolError(f"{_number_text(value)} has no unit to convert to {_unit_text(target)}.")
        try:
            value = value.to(target)
        except pint.DimensionalityError as e:
            raise ToolError(
                f"Cannot convert {_dimension(value)} ({_unit_text(value)}) "
                f"to {_dimension(target)} ({_unit_text(target)})."
            ) from e
        except pint.PintError as e:
            raise ToolError("Those units cannot be converted.") from e
    elif isinstance(value, PlainQuantity):
        value = _tidy(value)
    value = _simplified(value)
    if isinstance(value, Fraction | Decimal):
        return _number_text(value)
    quantity = value if isinstance(value, PlainQuantity) else _units().Quantity(Fraction(1), value)
    return f"{_measure_text(Fraction(quantity.magnitude))} {_unit_text(quantity)}"


def _tidy(value: Quantity) -> Quantity:
    """Mixed units made simple: "100 km/h * 30 min" is 50 km, "60 mph * 2 h" is 120 mi."""
    if len(list(value.unit_items())) < 2:
        return value
    reduced = value.to_reduced_units()  # km·min/h -> km
    for name, _ in reduced.unit_items():
        head = name.split("_per_")[0]
        if head != name and _units().get_dimensionality(head) == reduced.dimensionality:
            return reduced.to(head)
    return reduced


def _number_text(x: Number) -> str:
    """Shows a number as "7006652", "0.875", "1/3 ≈ 0.3333333333" or "≈ 1.414213562"."""
    if isinstance(x, Decimal):
        return f"≈ {_significant(x, APPROX_DIGITS)}"
    if x.denominator == 1:
        return str(x.numerator)
    decimal = _terminating(x, MAX_DECIMAL_PLACES)
    if decimal is not None:
        return decimal
    approx = _significant(_approx(x), APPROX_DIGITS)
    fraction = f"{x.numerator}/{x.denominator}"
    return f"≈ {approx}" if len(fraction) > 40 else f"{fraction} ≈ {approx}"


def _percent_text(x: Number) -> str:
    if isinstance(x, Fraction):
        decimal = _terminating(x, APPROX_DIGITS)
        if decimal is not None:
            return f"{decimal}%"
    return f"≈ {_significant(_approx(x), APPROX_DIGITS)}%"


def _measure_text(x: Fraction) -> str:
    """A measurement: exact when short ("101.6"), else six significant digits ("3.10686")."""
    decimal = _terminating(x, MAX_DECIMAL_PLACES)
    if decimal is not None and len(decimal.lstrip("-0.").replace(".", "")) <= 15:
        return decimal
    return _significant(_approx(x), UNIT_DIGITS)


def _terminating(x: Fraction, max_places: int) -> str | None:
    """``x`` as an exact decimal ("0.875"), or None if it does not end within ``max_places``."""
    if max(x.numerator.bit_length(), x.denominator.bit_length()) > MAX_BITS:
        return None
    rest, twos, fives = x.denominator, 0, 0
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    places = max(twos, fives)
    if rest != 1 or places > max_places:
        return None
    digits = str(abs(x.numerator) * 10**places // x.denominator)
    if places:
        digits = digits.rjust(places + 1, "0")
        digits = f"{digits[:-places]}.{digits[-places:]}"
    return f"-{digits}" if x < 0 else digits


def _significant(x: Decimal, digits: int) -> str:
    """``x`` rounded to ``digits`` significant digits, without trailing zeros."""
    if not x:
        return "0"
    with localcontext() as context:
        context.prec = digits
        rounded = +x
    exponent = rounded.adjusted()
    if -6 <= exponent < 15:
        text = format(rounded, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, _, power = format(rounded, "e").partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{power}"
