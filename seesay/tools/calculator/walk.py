"""The whitelisted walk over the parsed expression. The rewritten text is parsed by :mod:`ast` and
never ``eval``'d: only numbers, names of constants and units, the arithmetic operators and calls
of the known functions are read, each literal exactly as written ("0.1" is one tenth), and any
other node is refused as not arithmetic.
"""

from __future__ import annotations

import ast
from fractions import Fraction
from typing import TypeGuard

from seesay.tools.base import ToolError
from seesay.tools.calculator.arithmetic import _binary, _negate, _plain
from seesay.tools.calculator.functions import _ARITY, _FUNCTION_NAMES, _FUNCTIONS, _PERCENT_CALL
from seesay.tools.calculator.tokens import _to_python
from seesay.tools.calculator.units import _units
from seesay.tools.calculator.values import _CONSTANTS, MAX_DIGITS, Value, _checked, _DomainError


def _value(text: str) -> Value:
    source = _to_python(text)
    if not source:
        raise ToolError("Not arithmetic: the expression is empty.")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as e:
        raise ToolError(f"Not arithmetic: cannot read {text!r}.") from e
    except (ValueError, MemoryError) as e:
        raise ToolError("Not arithmetic: the expression cannot be read.") from e
    return _walk(tree.body, source)


_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)


def _walk(node: ast.expr, source: str) -> Value:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _literal(ast.get_source_segment(source, node) or str(node.value))
    if isinstance(node, ast.Name):
        return _name(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _walk(node.operand, source)
        return _negate(operand) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, _BINARY):
        left = _walk(node.left, source)
        if isinstance(node.op, ast.Add | ast.Sub) and _is_percent_call(node.right):
            # "240 + 15%" adds 15% of 240.
            rate = _call(node.right, source)
            factor = _binary(type(node.op), Fraction(1), rate)
            return _binary(ast.Mult, left, factor)
        return _binary(type(node.op), left, _walk(node.right, source))
    if isinstance(node, ast.Call):
        return _call(node, source)
    raise ToolError(f"Not arithmetic: {ast.unparse(node)!r} is not supported.")


def _literal(text: str) -> Fraction:
    """A number as written, exactly: "0.1" is one tenth, not the float nearest to it."""
    mantissa, _, exponent = text.replace("_", "").lower().partition("e")
    if exponent and abs(int(exponent)) > MAX_DIGITS:
        raise _DomainError(f"The number {text} is too large or too small to use exactly.")
    return _checked(Fraction(mantissa) * Fraction(10) ** int(exponent or 0))


def _is_percent_call(node: ast.expr) -> TypeGuard[ast.Call]:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == _PERCENT_CALL


def _call(node: ast.Call, source: str) -> Value:
    if not isinstance(node.func, ast.Name) or node.keywords:
        raise ToolError("Not arithmetic: only simple function calls such as sqrt(2) are supported.")
    name = node.func.id
    function = _FUNCTIONS.get(name)
    if function is None:
        raise ToolError(f"Unknown function {name!r}. Known: {', '.join(sorted(_FUNCTION_NAMES))}.")
    if any(isinstance(a, ast.Starred) for a in node.args):
        raise ToolError("Not arithmetic: starred arguments.")
    args = [_walk(a, source) for a in node.args]
    low, high = _ARITY[name]
    if not low <= len(args) <= high:
        expected = {1: "one number", 2: "one or two numbers"}.get(high, "one or more numbers")
        raise ToolError(f"{name} takes {expected}, not {len(args)}.")
    if name not in ("abs", "min", "max", _PERCENT_CALL):
        args = [_plain(a, name) for a in args]
    return function(*args)


def _name(name: str) -> Value:
    constant = _CONSTANTS.get(name)
    if constant is not None:
        return +constant
    try:
        return _units().Unit(name)
    except Exception as e:  # pint's errors for an unknown name vary
        raise ToolError(
            f"Unknown name {name!r}. Use numbers, + - * / ^ %, sqrt, abs, round, min, max, factorial, "
            "pi, e or units such as km."
        ) from e
