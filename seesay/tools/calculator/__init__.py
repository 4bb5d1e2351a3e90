"""The calculator tool: exact arithmetic, percentages and unit conversions for the chat model.

A 135M-parameter model cannot multiply four-digit numbers, and a float answer such as
0.30000000000000004 would be repeated to the user as fact. So every number typed here is a
:class:`~fractions.Fraction`: integers, decimals and fractions stay exact, 2**100 has all its
digits and 0.1 + 0.2 is 0.3. Only what cannot be exact (square roots of non-squares, pi, e,
logarithms) becomes a :class:`~decimal.Decimal` of 50 digits, and a Decimal always means
"approximate": it is shown with "≈" so the model never presents it as exact.

Expressions are parsed by :mod:`ast` and walked over a whitelist of nodes; nothing is ever
``eval``'d. Small models and people write arithmetic loosely ("15% of 240", "5 km in miles",
"3 × 4", "2 hours 30 minutes"), so the text is first rewritten into that small grammar:
words and symbols become operators, ``%`` becomes a percentage or a modulo depending on what
follows it, and a number next to a name becomes a quantity of that unit (``pint``, with exact
Fraction conversion factors).

:func:`find_expression` is the other direction: it picks the arithmetic out of a question so
the app can answer without the model when it is plainly a calculation. It is deliberately
conservative: a date, a version number or "24/7" in a sentence is not a sum.
"""

from __future__ import annotations

from typing import Any

from seesay.tools.base import Tool, ToolError, ToolResult
from seesay.tools.calculator.evaluation import _evaluate
from seesay.tools.calculator.finding import find_expression
from seesay.tools.calculator.values import _DomainError

__all__ = ["calculator_tool", "evaluate", "find_expression"]


def evaluate(expression: str) -> str:
    """The exact value of ``expression`` as text: "7006652", "0.875", "1/3 ≈ 0.3333333333",
    "25%", "3.10686 mi". Raises ToolError with a short reason when it cannot."""
    try:
        return _evaluate(expression)
    except _DomainError:
        raise
    except ToolError:
        # A whole question ("what's 2+2, please?") still holds an expression worth computing.
        found = find_expression(expression)
        if found is None or found.strip() == expression.strip():
            raise
        return _evaluate(found)


def calculator_tool() -> Tool:
    """The ``calculator`` tool: no side effects, its own output is trusted."""
    return Tool(
        name="calculator",
        description=(
            "Exact arithmetic. Use it for any calculation: +, -, *, /, ^, %, fractions, "
            "percentages, unit conversions. Example: 1234 * 5678"
        ),
        parameters={
            "type": "object",
            "properties": {
                "expression": {
                    "type": "string",
                    "description": "The calculation, e.g. 1234 * 5678, 15% of 240, sqrt(2), 5 km in miles",
                }
            },
            "required": ["expression"],
        },
        run=_run,
        side_effects=False,
    )


def _run(arguments: dict[str, Any]) -> ToolResult:
    expression = arguments.get("expression")
    if isinstance(expression, int | float) and not isinstance(expression, bool):
        expression = str(expression)
    if not isinstance(expression, str) or not expression.strip():
        raise ToolError("Give the calculator an expression, for example: 1234 * 5678")
    expression = expression.strip()
    return ToolResult(f"{expression} = {evaluate(expression)}", untrusted=False, source="calculator")
