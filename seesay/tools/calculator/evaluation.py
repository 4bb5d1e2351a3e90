"""From a question's text to the text of its answer, the pipeline that ties the stages together:
clean the wording, answer a "what percent is A of B" question directly, rewrite the rest into the
grammar, compute it and format the result, turning every failure into a short ToolError the chat
model can repeat to the user.
"""

from __future__ import annotations

from decimal import (
    DecimalException,
    Overflow,
    localcontext,
)
from fractions import Fraction

import pint

from seesay.tools.base import ToolError
from seesay.tools.calculator.arithmetic import _divide, _plain, _times
from seesay.tools.calculator.format import _percent_text, _result_text
from seesay.tools.calculator.values import _CONTEXT, MAX_INPUT_CHARS, Number, _DomainError
from seesay.tools.calculator.walk import _value
from seesay.tools.calculator.wording import (
    _PERCENT_QUESTIONS,
    _clean,
    _how_many,
    _normalize,
    _split_conversion,
)


def _evaluate(expression: str) -> str:
    if len(expression) > MAX_INPUT_CHARS:
        raise ToolError(f"The expression is too long (over {MAX_INPUT_CHARS:,} characters).")
    text = _clean(expression)
    if not text:
        raise ToolError("Not arithmetic: the expression is empty.")
    with localcontext(_CONTEXT):
        try:
            ratio = _percent_question(text)
            if ratio is not None:
                return _percent_text(ratio)
            text = _how_many(text) or text
            text = _normalize(text)
            left, target = _split_conversion(text)
            return _result_text(_value(left), target)
        except RecursionError as e:
            raise ToolError("The expression is nested too deeply.") from e
        except ZeroDivisionError as e:
            raise _DomainError("Division by zero.") from e
        except Overflow as e:
            raise _DomainError("The result is too large.") from e
        except DecimalException as e:
            raise _DomainError("The result is not a real number.") from e
        except pint.PintError as e:
            raise ToolError("Those units cannot be used together.") from e


def _percent_question(text: str) -> Number | None:
    for pattern in _PERCENT_QUESTIONS:
        match = pattern.fullmatch(text)
        if match:
            part = _plain(_divide(_value(_normalize(match["a"])), _value(_normalize(match["b"]))))
            return _times(part, Fraction(100))
    return None
