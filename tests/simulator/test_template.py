"""The simulator's template renderer: exact rules of docs/device-api.md §12.3."""

from __future__ import annotations

import json

from simulator.template import format_number, render

VARS = {
    "1_7_0": 1.204,
    "2_7_0": 0,
    "1_8_0": 5120.456,
    "2_8_0": 812.004,
    "32_7_0": 231.4,
    "31_7_0": None,
    "tariff": 2,
    "meter.date_time_utc": "2026-01-15T08:12:40Z",
    "sys.id": "A1B2C3D4E5F6",
    "meter.id": None,
    "sys.name": "Garage",
}
NUMERIC = {"1_7_0", "2_7_0", "1_8_0", "2_8_0", "32_7_0", "31_7_0", "tariff"}


def test_readme_example() -> None:
    template = (
        '{"pi": ${1_7_0}, "po": ${2_7_0}, "ei": ${1_8_0}, "eo": ${2_8_0}, '
        '"ts": "${meter.date_time_utc}", "id": "${sys.id}"}'
    )
    assert render(template, VARS, NUMERIC) == (
        '{"pi": 1.204, "po": 0, "ei": 5120.456, "eo": 812.004, '
        '"ts": "2026-01-15T08:12:40Z", "id": "A1B2C3D4E5F6"}'
    )


def test_missing_numeric_is_null_missing_text_is_empty() -> None:
    assert render('{"i": ${31_7_0}, "m": "${meter.id}"}', VARS, NUMERIC) == '{"i": null, "m": ""}'


def test_unknown_names_left_verbatim() -> None:
    out = render('{"x": ${no_such}, "y": "${also.unknown}", "p": ${1_7_0}}', VARS, NUMERIC)
    assert out == '{"x": ${no_such}, "y": "${also.unknown}", "p": 1.204}'


def test_everything_else_verbatim() -> None:
    template = (
        "  line1 ${sys.name}\n\tline2 $ {sys.id} ${ sys.id} $sys.id {} ${}\r\n${sys.id}${sys.id}"
    )
    assert render(template, VARS, NUMERIC) == (
        "  line1 Garage\n\tline2 $ {sys.id} ${ sys.id} $sys.id {} ${}\r\nA1B2C3D4E5F6A1B2C3D4E5F6"
    )


def test_text_values_are_not_escaped_or_quoted() -> None:
    assert render("${t}", {"t": 'a"b'}, set()) == 'a"b'
    assert render("${n}", {"n": "5.0"}, {"n"}) == "5.0"


def test_number_formatting() -> None:
    assert format_number(0) == "0"
    assert format_number(0.0) == "0"
    assert format_number(232.0) == "232"
    assert format_number(231.4) == "231.4"
    assert format_number(-0.5) == "-0.5"
    assert format_number(5120.456) == "5120.456"
    assert format_number(1e20) == "1e+20"
    assert format_number(float("nan")) == "null"
    assert format_number(float("inf")) == "null"
    assert format_number(True) == "1"
    assert json.loads(format_number(1e-7)) == 1e-7


def test_text_variable_with_number_value() -> None:
    assert render("${x}", {"x": 5}, set()) == "5"


def test_empty_template() -> None:
    assert render("", VARS, NUMERIC) == ""
