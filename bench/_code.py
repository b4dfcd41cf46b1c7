"""Apply ``--code DIR`` before anything imports the integration or the simulator.

Every benchmark imports this module first. ``--code DIR`` puts DIR (a checkout holding
``custom_components/whatwatt`` and ``simulator/``, for instance ``git archive HEAD | tar -x``)
ahead of the working tree on ``sys.path``, so one bench can measure two revisions.
Subprocesses started by the benches inherit it through ``PYTHONPATH``.
"""

from __future__ import annotations

import os
from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parents[1]


def _code_dir(argv: list[str]) -> Path:
    for index, arg in enumerate(argv):
        if arg == "--code" and index + 1 < len(argv):
            return Path(argv[index + 1]).resolve()
        if arg.startswith("--code="):
            return Path(arg.split("=", 1)[1]).resolve()
    return ROOT


CODE = _code_dir(sys.argv)
if not (CODE / "custom_components" / "whatwatt").is_dir():
    sys.exit(f"--code {CODE}: no custom_components/whatwatt there")
for path in (str(ROOT), str(CODE)):  # CODE ends up first
    if path in sys.path:
        sys.path.remove(path)
    sys.path.insert(0, path)

try:
    import custom_components.whatwatt  # noqa: F401 - fail early, with a hint
except ImportError as err:
    sys.exit(
        f"custom_components/whatwatt in {CODE} does not import ({err!r}): a tree in the "
        "middle of an edit? Measure a checkout that imports with --code DIR, e.g. "
        "mkdir /tmp/ww && git archive HEAD custom_components simulator | tar -x -C /tmp/ww"
    )


def child_env() -> dict[str, str]:
    """Return the environment for a subprocess that must import the same code."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(CODE), str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env
