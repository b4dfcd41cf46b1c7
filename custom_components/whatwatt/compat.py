"""The schema library under the name ``vol``, typed as the Home Assistant line runs it.

Nothing here changes what runs: at run time ``vol`` is ``voluptuous`` on every line. From
2026.x Home Assistant validates with probatio and, on import, registers probatio's voluptuous
shim as ``voluptuous`` (``homeassistant/__init__.py``), so the schemas built here are probatio's
and Home Assistant's signatures ask for probatio types; the ``voluptuous`` package installed
beside it is not what runs. The type checker is told the same: it reads ``vol`` as ``probatio``
on that line.

mypy cannot ask which line is installed, so the Python version stands for it, as in the pinned
sets (``requirements/py313.txt``: 2025.4, ``requirements/py314.txt``: 2026.10); ``repairs``
does the same for its flow results. Once 2025.4 is no longer supported, the 3.13 branches go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sys

    if sys.version_info >= (3, 14):
        import probatio as vol
    else:
        import voluptuous as vol
else:
    import voluptuous as vol

__all__ = ["vol"]
