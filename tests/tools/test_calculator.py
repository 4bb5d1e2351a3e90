"""The calculator: exact answers, readable approximations, units, and only real arithmetic found."""

from __future__ import annotations

import json
import re

import pytest

from seesay.tools.base import ToolError
from seesay.tools.calculator import calculator_tool, evaluate, find_expression


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1234 * 5678", "7006652"),
        ("0.1 + 0.2", "0.3"),
        ("1 - 0.9", "0.1"),
        ("0.1 * 3", "0.3"),
        ("2**100", "1267650600228229401496703205376"),
        ("2^10", "1024"),
        ("2 ** 3 ** 2", "512"),
        ("-2^2", "-4"),
        ("2^-2", "0.25"),
        ("7/8", "0.875"),
        ("7 / 2", "3.5"),
        ("100 / 7 * 7", "100"),
        ("1/3", "1/3 ≈ 0.3333333333"),
        ("-1/3", "-1/3 ≈ -0.3333333333"),
        ("22/7", "22/7 ≈ 3.142857143"),
        ("-5 + 2", "-3"),
        ("10 - -3", "13"),
        ("(17 + 25) / 6", "7"),
        ("2(3 + 4)", "14"),
        ("17 % 5", "2"),
        ("17 mod 5", "2"),
        ("7 // 2", "3"),
        ("1e3 + 1", "1001"),
        ("0.000001 / 4", "0.00000025"),
        (".5 + .25", "0.75"),
        ("123456789.123456789 * 1", "123456789.123456789"),
    ],
)
def test_exact_arithmetic(expression: str, expected: str) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1,234,567 + 1", "1234568"),
        ("(1,000 + 1) * 2", "2002"),
        ("max(1,234)", "234"),  # inside a call, commas separate arguments
        ("min(3, 1, 2)", "1"),
        ("3 × 4 − 2", "10"),
        ("12 ÷ 4", "3"),
        ("5 plus 3 times 2", "11"),
        ("10 minus 4", "6"),
        ("6 multiplied by 7", "42"),
        ("8 divided by 2", "4"),
        ("9 over 4", "2.25"),
        ("2 to the power of 10", "1024"),
        ("3 squared", "9"),
        ("3 x 4", "12"),
        ("1920x1080", "2073600"),
        ("1 1/2 + 1/4", "1.75"),
        ("1½ + ¼", "1.75"),
        ("What is 1234 * 5678?", "7006652"),
        ("What's 2 + 2, please?", "4"),
        ("so what is 6 * 7 then", "42"),
        ("$5 + $3", "8"),
    ],
)
def test_loose_notation(expression: str, expected: str) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("15% of 240", "36"),
        ("20%", "0.2"),
        ("240 + 15%", "276"),
        ("240 - 15%", "204"),
        ("12.5 percent of 80", "10"),
        ("(10 + 5)%", "0.15"),
        ("what percent is 30 of 120", "25%"),
        ("30 is what percent of 120", "25%"),
        ("what percentage of 120 is 30", "25%"),
        ("1 out of 3 as a percentage", "≈ 33.33333333%"),
        ("0.5 as a percent", "50%"),
    ],
)
def test_percentages(expression: str, expected: str) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("sqrt(16)", "4"),
        ("sqrt(9/4)", "1.5"),
        ("sqrt(2)", "≈ 1.414213562"),
        ("√2", "≈ 1.414213562"),
        ("sqrt 2", "≈ 1.414213562"),
        ("square root of 144", "12"),
        ("8^(1/3)", "2"),
        ("(-8)^(1/3)", "-2"),
        ("cbrt(27)", "3"),
        ("abs(-7)", "7"),
        ("round(2.5)", "3"),
        ("round(-2.5)", "-3"),
        ("round(3.14159, 2)", "3.14"),
        ("round(pi, 4)", "3.1416"),
        ("floor(7/2)", "3"),
        ("max(2, 9, 4)", "9"),
        ("factorial(20)", "2432902008176640000"),
        ("5!", "120"),
        ("10 factorial", "3628800"),
        ("pi", "≈ 3.141592654"),
        ("2 pi", "≈ 6.283185307"),
        ("e", "≈ 2.718281828"),
        ("log(1000)", "3"),
        ("log(8, 2)", "3"),
        ("sqrt(2)^2", "≈ 2"),
    ],
)
def test_functions_and_constants(expression: str, expected: str) -> None:
    assert evaluate(expression) == expected


def test_large_results_stay_exact() -> None:
    assert evaluate("2^10000").startswith("19950631168807583848837421626835850838234968318861924548520")
    assert len(evaluate("2^10000")) == 3011
    assert evaluate("1/2^100") == "1/1267650600228229401496703205376 ≈ 7.888609052e-31"
    assert evaluate("123456789012345678901234567890 * 2") == "246913578024691357802469135780"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("5 km in miles", "3.10686 mi"),
        ("3 ft + 4 in to cm", "101.6 cm"),
        ("5 ft 3 in to cm", "160.02 cm"),
        ("100 F to C", "37.7778 °C"),
        ("37 °C in °F", "98.6 °F"),
        ("-40 F to C", "-40 °C"),
        ("0 C in K", "273.15 K"),
        ("2 hours 30 minutes in minutes", "150 min"),
        ("2 hours and 30 minutes to hours", "2.5 h"),
        ("1.5 kg + 300 g", "1.8 kg"),
        ("100 km/h to mph", "62.1371 mph"),
        ("60 mph * 2 hours", "120 mi"),
        ("100 km/h * 30 min", "50 km"),
        ("3/4 cup to tbsp", "12 tbsp"),
        ("9 square meters to square feet", "96.8752 ft²"),
        ("1 gallon in liters", "3.785411784 L"),
        ("how many feet in a mile", "5280 ft"),
        ("1 km / 1 m", "1000"),
        ("20% of 50 kg", "10 kg"),
        ("3 weeks to days", "21 days"),
    ],
)
def test_units(expression: str, expected: str) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("1/0", "Division by zero"),
        ("5 % 0", "Division by zero"),
        ("0^-1", "Division by zero"),
        ("2^100000", "too large"),
        ("10^10^10", "too large"),
        ("factorial(100000)", "too large"),
        ("exp(1000000)", "too large"),
        ("1e999999999", "too large"),
        ("sqrt(-4)", "not a real number"),
        ("(-8)^(1/2)", "not a real number"),
        ("ln(0)", "above 0"),
        ("factorial(2.5)", "whole number"),
        ("foo + 1", "Unknown name 'foo'"),
        ("5 km in kg", "Cannot convert length (km) to mass (kg)"),
        ("5 km + 3 kg", "Cannot combine length with mass"),
        ("100 F + 5 F", "Temperatures"),
        ("sqrt(16 m^2)", "plain numbers"),
        ("", "empty"),
        ("(1 + 2", "Not arithmetic"),
        ("2 3", "Not arithmetic"),
        ("import os", "Not arithmetic"),
        ("__import__('os')", "Not arithmetic"),
        ("(1).real", "Not arithmetic"),
        ("2 if 1 else 3", "Not arithmetic"),
        ("1 < 2", "Not arithmetic"),
        ("[1, 2]", "Not arithmetic"),
        ("What is the capital of France?", "Unknown name 'capital'"),
    ],
)
def test_errors_are_short_and_clear(expression: str, reason: str) -> None:
    with pytest.raises(ToolError, match=re.escape(reason)):
        evaluate(expression)


def test_oversized_or_deeply_nested_input_is_refused() -> None:
    with pytest.raises(ToolError, match="too long"):
        evaluate("1+" * 600 + "1")
    with pytest.raises(ToolError):
        evaluate("(" * 300 + "1" + ")" * 300)
    assert evaluate("1+" * 499 + "1") == "500"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What is 1234 * 5678?", "1234 * 5678"),
        ("Can you compute (17 + 25) / 6 please", "(17 + 25) / 6"),
        ("what's 15% of 80?", "15% of 80"),
        ("How much is 3/4 + 1/8?", "3/4 + 1/8"),
        ("Convert 5 km to miles", "5 km to miles"),
        ("What is 100 F in C?", "100 F in C"),
        ("what is 3 ft + 4 in in cm?", "3 ft + 4 in in cm"),
        ("What is 10-3?", "10-3"),
        ("What is 3/4?", "3/4"),
        ("what is 20%?", "20%"),
        ("What is 5 plus 3?", "5 plus 3"),
        ("What is 2 to the power of 10?", "2 to the power of 10"),
        ("what is the square root of 144?", "square root of 144"),
        ("what is 10 factorial?", "10 factorial"),
        ("what is 1,234 + 5,678?", "1,234 + 5,678"),
        ("what is -5 + 3", "-5 + 3"),
        ("What is max(3, 7)?", "max(3, 7)"),
        ("what percent is 30 of 120?", "what percent is 30 of 120"),
        ("30 is what percent of 120?", "30 is what percent of 120"),
        ("How many feet are in a mile?", "1 mile to feet"),
        ("what is 5/0", "5/0"),  # still arithmetic: the tool says why it has no answer
    ],
)
def test_find_expression_picks_out_the_arithmetic(text: str, expected: str) -> None:
    assert find_expression(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "What is the capital of France?",
        "I have 2 cats",
        "I have 2 cats and 3 dogs",
        "2024-05-01",
        "The meeting is on 2024-05-01.",
        "Call me at 555-123-4567",
        "I use Python 3.11",
        "version 1.2.3",
        "42",
        "What is 42?",
        "Meet at 10:30",
        "It costs $5",
        "I'm available 24/7",
        "I'm 20% sure",
        "It takes 5 - 10 minutes",
        "pages 10-20 of the book",
        "The screen is 1920x1080",
        "a 2 x 4 board",
        "Wow 5!",
        "I walked 5 km in 2 hours",
        "There are 2 days in a week",
        "I scored 5 points + 3 bonus",
        "Is 5 greater than 3?",
        "",
    ],
)
def test_find_expression_leaves_ordinary_text_alone(text: str) -> None:
    assert find_expression(text) is None


def test_tool_answers_with_the_expression_and_result() -> None:
    tool = calculator_tool()
    assert tool.name == "calculator"
    assert tool.side_effects is False
    assert tool.parameters["required"] == ["expression"]
    assert tool.parameters["properties"]["expression"]["type"] == "string"
    assert "1234 * 5678" in tool.description
    json.dumps(tool.spec())

    result = tool.call({"expression": " 1234 * 5678 "})
    assert result.content == "1234 * 5678 = 7006652"
    assert not result.is_error
    assert result.untrusted is False
    assert result.source == "calculator"
    assert tool.call({"expression": "5 km in miles"}).content == "5 km in miles = 3.10686 mi"
    assert tool.call({"expression": 12}).content == "12 = 12"


def test_tool_errors_come_back_as_error_results() -> None:
    tool = calculator_tool()
    result = tool.call({"expression": "1/0"})
    assert result.is_error and result.content == "Division by zero."
    assert tool.call({}).is_error
    assert tool.call({"expression": "   "}).is_error
    with pytest.raises(ToolError, match="Unknown name"):
        tool.run({"expression": "foo * 2"})
