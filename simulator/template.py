"""The device's MQTT template language (docs/device-api.md §12.3).

``${name}`` placeholders only. Numeric variables are written as bare numbers (``null`` when
missing), text variables raw (empty when missing), unknown names are left verbatim, and everything
else is copied unchanged, whitespace and newlines included.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Container, Mapping

Value = str | int | float | None

_PLACEHOLDER: Final = re.compile(r"\$\{([^}]*)\}")


def format_number(value: float) -> str:
    """Write a number the way the device does: ``0``, ``231.4``, ``5120.456``; NaN/inf → null."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return "null"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def render_value(value: Value, *, numeric: bool) -> str:
    """Render one known variable's value."""
    if value is None:
        return "null" if numeric else ""
    if isinstance(value, str):
        return value
    return format_number(value)


def render(template: str, variables: Mapping[str, Value], numeric: Container[str]) -> str:
    """Render ``template`` with ``variables``; names in ``numeric`` are numeric variables."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            return match.group(0)
        return render_value(variables[name], numeric=name in numeric)

    return _PLACEHOLDER.sub(substitute, template)
