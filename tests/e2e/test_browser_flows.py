"""More first steps in headless Chromium (issue 21): MQTT with "configure the device for me",
the live stream reached from the FREE-licence menu, and what scripts/develop offers.

Like ``test_browser.py``: Home Assistant runs as its own process; screenshots go to
.develop/e2e/ (WHATWATT_E2E_SHOTS overrides), the best ones live in docs/screenshots/.

- MQTT: the whole development stack (broker, devices) runs as processes, since a device must
  reach the broker at this machine's network address (a loopback address is refused, with a
  message, on the broker form). The "Discovered" card of the stack's P1 gas meter is shown too.
- Live: a FREE device chosen for REST polling leads to a menu; "Live stream at this address"
  keeps the address, and the device page then shows the streamed power.
"""

from __future__ import annotations

from typing import Any

import pytest

from scripts._develop.haconfig import DEV_PASSWORD, DEV_USER
from scripts._develop.stack import DevStack

from .helpers import (
    CHROMIUM,
    SHOTS_DIR,
    WAIT_FOR_POWER_JS,
    add_whatwatt,
    all_free_ports,
    browser_marks,
    ha_only_stack,
    log_in,
    network_host,
    open_device_page,
    parse_power_w,
    report_power_import_w,
    type_into,
)

pytestmark = browser_marks()

UI_TIMEOUT_MS = 30_000


async def _browser(pw: Any) -> tuple[Any, Any]:
    browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    context = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    context.set_default_timeout(UI_TIMEOUT_MS)
    return browser, await context.new_page()


@pytest.fixture
async def full_stack(tmp_path: Any, socket_enabled: Any) -> Any:
    """Home Assistant, the broker and the simulated devices on free ports; stopped at teardown."""
    ports = all_free_ports()
    stack = DevStack(
        config_dir=tmp_path / "config",
        run_dir=tmp_path / "run",
        ports=ports,
        network_host=network_host(),
    )
    if stack.device_broker_url is None:
        pytest.skip("this machine has no network address for a device to reach the broker")
    try:
        await stack.start()
        yield stack
    finally:
        await stack.stop()


async def test_mqtt_configure_device_in_browser(full_stack: DevStack) -> None:
    """Topic, address and "configure the device for me"; the broker form; the entry."""
    from playwright.async_api import async_playwright, expect

    stack = full_stack
    device = next(d for d in stack.devices if d.name == "rest")  # its MQTT client is off
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser, page = await _browser(pw)
        try:
            await log_in(page, stack.ha_url, DEV_USER, DEV_PASSWORD)
            await page.goto(f"{stack.ha_url}/config/integrations/dashboard")
            await expect(page.get_by_text("Discovered", exact=True).first).to_be_visible()
            await expect(page.get_by_text("whatwatt Go 000004").first).to_be_visible()
            await page.screenshot(path=SHOTS_DIR / "develop-discovered.png")

            await add_whatwatt(page, stack.ha_url)
            await page.get_by_text("MQTT subscription (Plus licence)").click()
            await type_into(page, "Topic", "whatwatt/browser")
            await type_into(page, "Host (optional)", f"127.0.0.1:{device.port}")
            await page.get_by_text("Configure the device for me", exact=True).first.click()
            await page.screenshot(path=SHOTS_DIR / "mqtt-flow-topic.png")
            await page.get_by_role("button", name="Submit").click()

            url = page.get_by_role("textbox", name="Broker address")
            await expect(url).to_have_value(stack.device_broker_url or "")  # proposed
            await url.fill(f"mqtt://127.0.0.1:{stack.ports.broker}")
            await page.get_by_role("button", name="Submit").click()
            await expect(page.get_by_text("cannot reach a broker at this address")).to_be_visible()
            await page.screenshot(path=SHOTS_DIR / "mqtt-flow-loopback-refused.png")
            await url.fill(stack.device_broker_url or "")
            await page.screenshot(path=SHOTS_DIR / "mqtt-flow-broker.png")
            await page.get_by_role("button", name="Submit").click()

            created = page.get_by_text(f"Created configuration for {device.device_name}")
            await expect(created).to_be_visible(timeout=120_000)
            await page.screenshot(path=SHOTS_DIR / "mqtt-flow-created.png")
            await page.get_by_role("button", name="Finish").click()
        finally:
            await browser.close()


async def test_live_from_free_licence_menu_in_browser(
    simulator_factory: Any, tmp_path: Any, socket_enabled: Any
) -> None:
    """REST on a FREE device: the menu leads to the live stream at the same address."""
    from playwright.async_api import async_playwright, expect

    sim = await simulator_factory(
        profile="p1-gas",
        license="free",
        auth="none",
        device_id="0A1B2C0000E3",
        device_name="Live meter",
    )
    seen: list[float] = []
    unsubscribe = sim.state.add_telegram_listener(
        lambda report: seen.append(report_power_import_w(report))
    )
    stack = ha_only_stack(tmp_path)
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    try:
        await stack.start()
        async with async_playwright() as pw:
            browser, page = await _browser(pw)
            try:
                await log_in(page, stack.ha_url, DEV_USER, DEV_PASSWORD)
                await add_whatwatt(page, stack.ha_url)
                await page.get_by_text("REST polling (Plus licence)").click()
                await type_into(page, "Host", f"127.0.0.1:{sim.port}")
                await page.get_by_role("button", name="Submit").click()
                live = page.get_by_text("Live stream at this address", exact=True)
                await expect(live).to_be_visible()
                await expect(
                    page.get_by_text("Back to the choice of transport", exact=True)
                ).to_be_visible()
                await page.screenshot(path=SHOTS_DIR / "license-free-menu.png")
                await live.click()
                host = page.get_by_role("textbox", name="Host")
                await expect(host).to_have_value(f"127.0.0.1:{sim.port}")  # the address kept
                await page.screenshot(path=SHOTS_DIR / "live-flow-host.png")
                await page.get_by_role("button", name="Submit").click()
                await expect(
                    page.get_by_text("Created configuration for Live meter")
                ).to_be_visible()
                await page.get_by_role("button", name="Finish").click()

                await open_device_page(page, stack.ha_url, "Live meter")
                name = page.get_by_text("Power import", exact=True)
                value = page.locator("hui-generic-entity-row").filter(has=name).locator(".value")
                cell = await value.element_handle()
                shown = await page.wait_for_function(WAIT_FOR_POWER_JS, arg=[cell, None])
                text = await shown.json_value()
                assert any(abs(parse_power_w(text) - w) < 0.5 for w in seen), (text, seen[-15:])
                await page.set_viewport_size({"width": 1280, "height": 1280})
                await page.screenshot(path=SHOTS_DIR / "live-device-page.png")
            finally:
                await browser.close()
    finally:
        unsubscribe()
        await stack.stop()
