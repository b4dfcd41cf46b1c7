"""Skip rules, value parsing and page steps shared by the browser tests."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
import re
import subprocess
import sys
from typing import Any

import pytest

from scripts._develop.procs import free_port
from scripts._develop.stack import DevStack, StackPorts

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


async def log_in(page: Any, base: str, user: str, password: str) -> None:
    """Log in with the development login and wait for the sidebar."""
    await page.goto(f"{base}/")
    await page.locator("input[name=username]").fill(user)
    await page.locator("input[name=password]").fill(password)
    await page.keyboard.press("Enter")
    await page.locator('a[data-panel="config"]').wait_for()


async def add_whatwatt(page: Any, base: str) -> None:
    """Open Settings > Devices & services > Add integration > whatwatt Go (the transport menu)."""
    await page.goto(f"{base}/config/integrations/dashboard")
    await page.get_by_role("button", name="Add integration").click()
    await page.get_by_role("textbox", name="Search for a brand name").fill("whatwatt")
    # The brand list (a discovered device adds a heading of the same name above it).
    await page.locator("lit-virtualizer").get_by_text("whatwatt Go", exact=True).click()
    # With a device discovered, Home Assistant first offers it: add another one instead.
    another = page.get_by_text("Setup another instance of whatwatt Go")
    await another.or_(page.get_by_text("REST polling (Plus licence)")).first.wait_for()
    if await another.is_visible():
        await another.click()


async def open_device_page(page: Any, base: str, name: str) -> None:
    """Open the page of the device called `name` from Settings > Devices.

    The devices table is used rather than the integration page's "N devices" link, whose text
    changes while a sub-meter is still being added (a click then lands on nothing).
    """
    await page.goto(f"{base}/config/devices/dashboard")
    await page.get_by_text(name, exact=True).first.click()
    await page.wait_for_url("**/config/devices/device/**")


async def type_into(page: Any, name: str, text: str) -> None:
    """Replace the text of the form field labelled `name`."""
    field = page.get_by_role("textbox", name=name)
    await field.click()
    await field.fill(text)


def outside(code: str) -> str:
    """Run Python in a child process (the test process may only connect to 127.0.0.1)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


def network_host() -> str | None:
    """This machine's network address (scripts/develop's broker URL for a device), or None."""
    code = "from scripts._develop.broker import network_address; print(network_address() or '')"
    return outside(code) or None


def browser_marks() -> list[Any]:
    """The marks of a browser test module: skipped without Chromium, five minutes at most."""
    reason = skip_reason()
    return [pytest.mark.skipif(reason is not None, reason=reason or ""), pytest.mark.timeout(300)]


def all_free_ports() -> StackPorts:
    """Free ports for every process of the development stack."""
    return StackPorts(
        ha=free_port(),
        broker=free_port(),
        rest=free_port(),
        live=free_port(),
        mqtt=free_port(),
        discovered=free_port(),
    )


def ha_only_stack(tmp_path: Path) -> DevStack:
    """Home Assistant alone (no broker, no devices) on a free port, not started."""
    return DevStack(
        config_dir=tmp_path / "config",
        run_dir=tmp_path / "run",
        ports=StackPorts(ha=free_port()),
        with_broker=False,
        with_devices=False,
        network_host=None,  # no broker: its address for a device is not needed
    )
