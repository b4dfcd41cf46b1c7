"""Skip rules, value parsing and page steps shared by the browser tests."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
import re
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS_DIR = Path(os.environ.get("WHATWATT_E2E_SHOTS", ROOT / ".develop" / "e2e"))


def skip_reason() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if not CHROMIUM.exists():
        return (
            f"Debian's chromium is not installed ({CHROMIUM}); `apt-get install chromium` "
            "(.ci/run does) to run the browser test"
        )
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing from the venv (requirements/common.txt)"
    import playwright

    driver = Path(playwright.__file__).parent / "driver"
    if not any(driver.glob("node*")):
        return f"Playwright's driver is missing ({driver})"
    return None


_NUMBER = re.compile(r"(-?[\d,]*\.?\d+)\s*(kW|W)\b")


# Text of an element including shadow roots and slotted content (Home Assistant renders values
# there), for a browser-side wait until that text is a power value other than `previous`.
WAIT_FOR_POWER_JS = """
([el, previous]) => {
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent;
    let out = "";
    if (node.tagName === "SLOT") {
      for (const c of node.assignedNodes({flatten: true})) out += walk(c);
    }
    if (node.shadowRoot) for (const c of node.shadowRoot.childNodes) out += walk(c);
    for (const c of node.childNodes) out += walk(c);
    return out;
  };
  const text = walk(el).replace(/\\s+/g, " ").trim();
  return /\\d[\\d,]*(\\.\\d+)?\\s*k?W$/.test(text) && text !== previous ? text : false;
}
"""


def parse_power_w(text: str) -> float:
    """Turn a displayed power such as '1,658.000 W' or '1.7 kW' into watts."""
    match = _NUMBER.search(text)
    if match is None:
        raise ValueError(f"no power value in {text!r}")
    value = float(match.group(1).replace(",", ""))
    return value * 1000 if match.group(2) == "kW" else value


def report_power_import_w(report: dict[str, Any]) -> float:
    """Active import power total of a /api/v1/report JSON, in watts."""
    data = report.get("report", report)
    return float(data["instantaneous_power"]["active"]["positive"]["total"]) * 1000
