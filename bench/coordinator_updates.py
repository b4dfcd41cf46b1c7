"""Benchmark: what one coordinator update costs with ~30 sensor entities.

Feeds 2,000 readings through the coordinator of a set-up entry and prints CPU time and state
writes per update, then the HTTP requests per steady-state Digest poll. The cases live in
``cases_coordinator.py``; they run under pytest to borrow Home Assistant's test harness.

Run: ``.venv/bin/python bench/coordinator_updates.py``
"""

from __future__ import annotations

from pathlib import Path
import sys

import pytest

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(
        pytest.main(
            [
                str(Path(__file__).with_name("cases_coordinator.py")),
                "-q",
                "-s",
                "-p",
                "no:cacheprovider",
                "-p",
                "tests.plugins.simulator",
                "--rootdir",
                str(ROOT),
            ]
        )
    )
