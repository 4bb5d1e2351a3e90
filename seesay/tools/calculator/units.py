"""Units of measurement for the calculator: one ``pint`` registry with exact Fraction conversion
factors, and the words for what a unit measures and how it is written ("km/h", "m/s²", "a length").
Kept apart from the arithmetic so that error messages and output can name units without pulling
in the rest of the calculator, and so that the registry is built once, on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import (
    Decimal,
)
from fractions import Fraction
from typing import Any

import pint
from pint.facets.plain import PlainQuantity, PlainUnit

from seesay.tools.calculator.values import Quantity, Value, _checked


@functools.cache
def _units() -> pint.UnitRegistry:
    """One registry with exact (Fraction) conversion factors, built on first use."""
    return pint.UnitRegistry(non_int_type=Fraction)


def _has_units(x: Value) -> bool:
    return isinstance(x, PlainQuantity | PlainUnit)


def _simplified(x: Any) -> Any:
    """A ratio of like units is a plain number ("1 km / 1 m" is 1000); a lone degree stays one."""
    if isinstance(x, PlainQuantity) and x.dimensionless and len(list(x.unit_items())) != 1:
        return _checked(Fraction(x.to("dimensionless").magnitude))
    return x


_DIMENSION_EXAMPLES = {
    "length": "m",
    "area": "m**2",
    "volume": "m**3",
    "mass": "kg",
    "time": "s",
    "temperature": "K",
    "speed": "m/s",
    "acceleration": "m/s**2",
    "force": "N",
    "energy": "J",
    "power": "W",
    "pressure": "Pa",
    "frequency": "Hz",
    "density": "kg/m**3",
    "electric current": "A",
    "voltage": "V",
    "electric charge": "C",
    "amount of substance": "mol",
    "information": "bit",
    "luminous intensity": "cd",
}


@functools.cache
def _dimension_names() -> list[tuple[dict[str, Any], str]]:
    registry = _units()
    return [(dict(registry.get_dimensionality(unit)), name) for name, unit in _DIMENSION_EXAMPLES.items()]


def _dimension(x: Value) -> str:
    if isinstance(x, Fraction | Decimal):
        return "a plain number"
    dims = dict(_units().get_dimensionality(x.units if isinstance(x, PlainQuantity) else x))
    if not dims:
        return "a plain number"
    for known, name in _dimension_names():
        if dims == known:
            return name
    return _power_text([(k.strip("[]"), v) for k, v in dims.items()])


def _unit_text(x: Quantity | PlainUnit) -> str:
    registry = _units()
    quantity = x if isinstance(x, PlainQuantity) else registry.Quantity(Fraction(1), x)
    items = list(quantity.unit_items())
    if len(items) == 1 and items[0][1] == 1 and items[0][0] in _WORDY_UNITS:
        name = items[0][0]
        return name if quantity.magnitude == 1 else f"{name}s"
    return _power_text([(_SYMBOLS.get(name) or registry.get_symbol(name), power) for name, power in items])


# Symbols that read badly alone ("a" for year, "d" for day) are written as words.
_WORDY_UNITS = frozenset({"day", "week", "month", "year", "cup", "stone", "acre", "ton", "tonne", "degree"})
_SYMBOLS = {"liter": "L", "milliliter": "mL"}
_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _power_text(items: Sequence[tuple[str, Any]]) -> str:
    """Writes units as "km/h", "m/s²", "kg·m²/s²" (pint's formatter fails on Fraction exponents)."""

    def term(name: str, power: Any) -> str:
        power = Fraction(power)
        if power == 1:
            return name
        if power.denominator == 1:
            return name + str(power.numerator).translate(_SUPERSCRIPTS)
        return f"{name}^({power})"

    above = [term(n, p) for n, p in items if p > 0]
    below = [term(n, -p) for n, p in items if p < 0]
    text = "·".join(above) or "1"
    return f"{text}/{'·'.join(below)}" if below else text


# English words that pint also knows as units (a = year, cats = centi-technical-atmospheres, ...).
_NOT_UNIT_WORDS = frozenset(
    {"a", "an", "am", "are", "as", "at", "he", "me", "us", "has", "cat", "cats", "hand", "hands"}
    | {"point", "points", "count", "link", "links", "bag", "bags", "chain", "chains", "bar", "bars"}
    | {"mil", "mils", "rod", "rods", "it", "the", "of"}
)
