"""Screenshots of the Energy dashboard before and after the SD-card fill of a three-hour gap.

`.venv/bin/python -m scripts._develop.backfill_shots [--out docs/screenshots]` (under `timeout`):

1. a simulated three-phase Plus device (this process) with an SD card and logging on; its meter
   history since 22:00 yesterday is replayed through the simulator's own meter model and card
   logger (one report per 15 s, time stamps in the past), then the device runs live;
2. Home Assistant as scripts/develop starts it (recorder, energy), fresh config under
   .develop/backfill-shots/; the device added through the config flow (REST polling);
3. `recorder/import_statistics` writes the hourly rows Home Assistant would have compiled from
   that history, except for the three hours of the outage (absent, as after a real outage) and
   with the hour after it booking the outage's consumption (as Home Assistant books it);
4. `energy/save_prefs` puts the sensor on the Energy dashboard; screenshot "before";
5. `whatwatt.backfill` for the three hours (REST); screenshot "after".

Everything it starts (Home Assistant, browser, device) is stopped at the end.

Why the spike row is imported too: Home Assistant continues a sum from its latest 5-minute
statistic, which `recorder/import_statistics` cannot write; a row it compiled itself after a
start-up would begin at zero, not book the outage. Run it after 04:00 local time (the gap ends one
hour before now and must lie on today's day view).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import shutil
import sys
from typing import Any

import aiohttp

from .haconfig import DEV_PASSWORD, DEV_USER, ROOT
from .procs import free_port
from .stack import DevStack, StackPorts

STEP_S = 15  # the card's default logging interval
HOUR = timedelta(hours=1)
GAP_HOURS = 3
DEVICE_ID = "0A1B2C0000B1"
DEVICE_NAME = "Three-phase meter"


def _floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def replay_history(sim: Any, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """Log the meter's reports of `start`..`end` (UTC) to the card; return (time, kWh import)."""
    state = sim.state
    state.settings["services"]["sd"]["enable"] = True
    state.settings["services"]["sd"]["frequency"] = STEP_S
    readings: list[tuple[datetime, float]] = []
    moment = start
    while moment <= end:
        body = sim.meter.next_report(STEP_S, moment.astimezone(state.zone), state.zone)
        report = state.set_report(body, moment)
        sim.sdcard.on_report(report)
        readings.append((moment, float(report["report"]["energy"]["active"]["positive"]["total"])))
        moment += timedelta(seconds=STEP_S)
    return readings


def hourly_rows(
    readings: list[tuple[datetime, float]], first: datetime, last: datetime, gap: list[datetime]
) -> list[dict[str, Any]]:
    """Hourly rows as the recorder compiles them (state: last reading in the hour), gap absent."""
    base = readings[0][1]
    rows = []
    hour = first
    while hour <= last:
        inside = [value for moment, value in readings if hour <= moment < hour + HOUR]
        if inside and hour not in gap:
            # sum: everything the register rose since the first reading; the hour after the
            # gap therefore books the whole outage, as Home Assistant does.
            rows.append({"start": hour.isoformat(), "state": inside[-1], "sum": inside[-1] - base})
        hour += HOUR
    return rows


class Ws:
    """A minimal Home Assistant websocket client."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 1

    async def call(self, **msg: Any) -> Any:
        msg["id"] = self.next_id
        self.next_id += 1
        await self.ws.send_json(msg)
        while True:
            answer = await self.ws.receive_json()
            if answer.get("id") == msg["id"] and answer.get("type") == "result":
                if not answer["success"]:
                    raise RuntimeError(f"{msg['type']}: {answer['error']}")
                return answer["result"]


async def add_device(session: aiohttp.ClientSession, base: str, token: str, host: str) -> str:
    """Add the device over REST polling through the config flow; return the entry id."""
    headers = {"Authorization": f"Bearer {token}"}
    async with session.post(
        f"{base}/api/config/config_entries/flow", json={"handler": "whatwatt"}, headers=headers
    ) as resp:
        step = await resp.json()
    for body in ({"next_step_id": "rest"}, {"host": host}):
        async with session.post(
            f"{base}/api/config/config_entries/flow/{step['flow_id']}", json=body, headers=headers
        ) as resp:
            step = await resp.json()
        if step.get("type") == "create_entry":
            return str(step["result"]["entry_id"])
    raise RuntimeError(f"config flow ended with {step}")


async def shoot(base: str, path: Path) -> None:
    """Log in, open the Energy dashboard (today) and screenshot it."""
    from playwright.async_api import async_playwright  # noqa: PLC0415

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        try:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="Europe/Zurich"
            )
            context.set_default_timeout(30_000)
            page = await context.new_page()
            await page.goto(f"{base}/")
            await page.locator("input[name=username]").fill(DEV_USER)
            await page.locator("input[name=password]").fill(DEV_PASSWORD)
            await page.keyboard.press("Enter")
            await page.locator('a[data-panel="config"]').wait_for()
            await page.goto(f"{base}/energy")
            await page.locator("hui-energy-usage-graph-card").first.wait_for()
            await page.wait_for_timeout(6000)  # statistics fetched, chart animation over
            # The date, the hourly graph and the distribution card (not the sidebar).
            await page.screenshot(path=path, clip={"x": 256, "y": 0, "width": 1024, "height": 495})
        finally:
            await browser.close()


async def _clear_of_hour_boundary() -> None:
    """Wait past the next full hour when it is near.

    At hh:00:10 the recorder compiles the hour just ended; a row it compiled itself for the
    live sensor would start its own sum at zero (its 5-minute statistics have no earlier row)
    and show as a negative bar. The run takes about a minute.
    """
    now = datetime.now(tz=UTC)
    left = (_floor(now) + HOUR - now).total_seconds()
    if left < 300:
        print(f"waiting {left + 30:.0f} s for the full hour to pass", flush=True)
        await asyncio.sleep(left + 30)


async def main_async(out: Path) -> int:
    from simulator import Simulator, SimulatorConfig  # noqa: PLC0415

    await _clear_of_hour_boundary()
    utc_now = datetime.now(tz=UTC)
    sim = Simulator(
        SimulatorConfig(
            host="127.0.0.1",
            port=free_port(),
            auth="none",
            license="plus",
            profile="dlms-three",
            device_id=DEVICE_ID,
            device_name=DEVICE_NAME,
            sd_card=True,
            seed=7,
        )
    )
    zone = sim.state.zone
    local_midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    history_start = _floor((local_midnight - 2 * HOUR).astimezone(UTC))
    readings = replay_history(sim, history_start, utc_now)
    after = _floor(utc_now) - HOUR  # the hour Home Assistant is back in
    gap = [after - GAP_HOURS * HOUR + i * HOUR for i in range(GAP_HOURS)]
    rows = hourly_rows(readings, history_start, after, gap)
    print(
        f"gap {gap[0].astimezone(zone):%H:%M}-{after.astimezone(zone):%H:%M} local,"
        f" {len(readings)} card rows, {len(rows)} hourly rows imported",
        flush=True,
    )

    run = ROOT / ".develop" / "backfill-shots"
    if run.exists():
        shutil.rmtree(run)
    stack = DevStack(
        config_dir=run / "config",
        run_dir=run / "run",
        ports=StackPorts(ha=free_port()),
        with_broker=False,
        with_devices=False,
    )
    out.mkdir(parents=True, exist_ok=True)
    try:
        await sim.start()
        await stack.start()
        base, token = stack.ha_url, stack.token
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as session:
            entry_id = await add_device(session, base, token, f"127.0.0.1:{sim.port}")
            async with session.ws_connect(f"{base}/api/websocket") as raw:
                await raw.receive_json()
                await raw.send_json({"type": "auth", "access_token": token})
                assert (await raw.receive_json())["type"] == "auth_ok"
                ws = Ws(raw)
                entities = await ws.call(type="config/entity_registry/list")
                entity_id = next(
                    e["entity_id"]
                    for e in entities
                    if e["unique_id"] == f"{DEVICE_ID}_energy_import"
                )
                await ws.call(
                    type="recorder/import_statistics",
                    metadata={
                        "has_mean": False,
                        "has_sum": True,
                        "name": None,
                        "source": "recorder",
                        "statistic_id": entity_id,
                        "unit_of_measurement": "kWh",
                    },
                    stats=rows,
                )
                await ws.call(
                    type="energy/save_prefs",
                    energy_sources=[
                        {
                            "type": "grid",
                            "flow_from": [
                                {
                                    "stat_energy_from": entity_id,
                                    "stat_cost": None,
                                    "entity_energy_price": None,
                                    "number_energy_price": None,
                                }
                            ],
                            "flow_to": [],
                            "cost_adjustment_day": 0,
                        }
                    ],
                )
                await asyncio.sleep(3)  # the recorder commits the import
                await shoot(base, out / "backfill-before.png")
                body = {
                    "config_entry_id": entry_id,
                    "start": f"{gap[0].astimezone(zone):%Y-%m-%d %H:%M:%S}",
                    "end": f"{after.astimezone(zone):%Y-%m-%d %H:%M:%S}",
                }
                async with session.post(
                    f"{base}/api/services/whatwatt/backfill?return_response",
                    json=body,
                    headers=headers,
                ) as resp:
                    answer = await resp.json()
                print(f"backfill {json.dumps(body)} -> {json.dumps(answer)}", flush=True)
                await asyncio.sleep(3)
                await shoot(base, out / "backfill-after.png")
                stats = await ws.call(
                    type="recorder/statistics_during_period",
                    start_time=(history_start).isoformat(),
                    statistic_ids=[entity_id],
                    period="hour",
                    types=["sum", "state", "change"],
                )
                for row in stats.get(entity_id, []):
                    start = datetime.fromtimestamp(row["start"] / 1000, zone)
                    print(
                        f"  {start:%H:%M} change {row.get('change') or 0:7.3f}"
                        f"  state {row['state']:.3f}",
                        flush=True,
                    )
    finally:
        await stack.stop()
        await sim.stop()
    return 0


def main() -> None:
    """Entry point."""
    p = argparse.ArgumentParser(prog="python -m scripts._develop.backfill_shots")
    p.add_argument("--out", type=Path, default=ROOT / ".develop" / "backfill-shots" / "shots")
    sys.exit(asyncio.run(main_async(p.parse_args().out.resolve())))


if __name__ == "__main__":
    main()
