"""A person's first steps, in headless Chromium against a real Home Assistant.

Home Assistant runs as its own process (started like scripts/develop starts it, on a free port,
with a fresh config folder); the simulated three-phase Plus device runs in the test. The browser
logs in with the development login, adds the whatwatt integration through "Add integration",
walks the REST branch to a created entry, opens the device page and reads "Power import", which
must be a value the simulator produced and must move on as the meter does. Screenshots of each
step go to .develop/e2e/ (WHATWATT_E2E_SHOTS overrides); the best ones live in docs/.
"""

from __future__ import annotations

from typing import Any

import pytest

from scripts._develop.haconfig import DEV_PASSWORD, DEV_USER

from .helpers import (
    CHROMIUM,
    SHOTS_DIR,
    WAIT_FOR_POWER_JS,
    browser_marks,
    ha_only_stack,
    open_device_page,
    parse_power_w,
    report_power_import_w,
)

pytestmark = browser_marks()

UI_TIMEOUT_MS = 30_000
DEVICE_NAME = "Three-phase meter"


@pytest.fixture
async def ha_stack(tmp_path, socket_enabled):
    """Home Assistant alone (no broker, no devices) on a free port; stopped at teardown."""
    stack = ha_only_stack(tmp_path)
    try:
        await stack.start()
        yield stack
    finally:
        await stack.stop()


def _matches(value_w: float, seen: list[float]) -> bool:
    return any(abs(value_w - s) < 0.5 for s in seen)


async def test_add_rest_device_in_browser_and_read_live_power(simulator_factory, ha_stack) -> None:
    """Log in, add the device over REST in the UI, read a live power value on its page."""
    from playwright.async_api import async_playwright, expect

    sim = await simulator_factory(
        profile="dlms-three",
        license="plus",
        auth="none",
        device_id="0A1B2C0000E2",
        device_name=DEVICE_NAME,
    )
    seen: list[float] = []

    def record(report: dict[str, Any]) -> None:
        seen.append(report_power_import_w(report))

    unsubscribe = sim.state.add_telegram_listener(record)
    if sim.state.report is not None:
        record(sim.state.report)
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    base = ha_stack.ha_url
    host = f"127.0.0.1:{sim.port}"

    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            try:
                context = await browser.new_context(
                    viewport={"width": 1280, "height": 860}, locale="en-US"
                )
                context.set_default_timeout(UI_TIMEOUT_MS)
                page = await context.new_page()

                # Log in with the development login.
                await page.goto(f"{base}/")
                await page.locator("input[name=username]").fill(DEV_USER)
                await page.locator("input[name=password]").fill(DEV_PASSWORD)
                await page.keyboard.press("Enter")
                await page.locator('a[data-panel="config"]').wait_for()

                # Settings > Devices & services > Add integration > whatwatt Go.
                await page.goto(f"{base}/config/integrations/dashboard")
                await page.get_by_role("button", name="Add integration").click()
                await page.get_by_role("textbox", name="Search for a brand name").fill("whatwatt")
                await page.get_by_text("whatwatt Go", exact=True).click()
                rest = page.get_by_text("REST polling (Plus licence)")
                await rest.wait_for()
                await page.screenshot(path=SHOTS_DIR / "config-flow-menu.png")
                await rest.click()

                field = page.get_by_role("textbox", name="Host")
                await field.click()
                await page.keyboard.type(host)
                await page.screenshot(path=SHOTS_DIR / "config-flow-host.png")
                await page.get_by_role("button", name="Submit").click()
                await expect(
                    page.get_by_text(f"Created configuration for {DEVICE_NAME}")
                ).to_be_visible()
                await page.screenshot(path=SHOTS_DIR / "config-flow-created.png")
                await page.get_by_role("button", name="Finish").click()

                await open_device_page(page, base, DEVICE_NAME)
                name = page.get_by_text("Power import", exact=True)
                value = page.locator("hui-generic-entity-row").filter(has=name).locator(".value")
                cell = await value.element_handle()
                first = await page.wait_for_function(WAIT_FOR_POWER_JS, arg=[cell, None])
                first_text = await first.json_value()
                assert _matches(parse_power_w(first_text), seen), (first_text, seen[-15:])
                await page.set_viewport_size({"width": 1280, "height": 1280})
                await page.screenshot(path=SHOTS_DIR / "device-page.png")

                # Live: a later poll shows a newer reading of the simulator.
                second = await page.wait_for_function(
                    WAIT_FOR_POWER_JS, arg=[cell, first_text], timeout=60_000
                )
                second_text = await second.json_value()
                assert _matches(parse_power_w(second_text), seen), (second_text, seen[-15:])
            finally:
                await browser.close()
    finally:
        unsubscribe()
