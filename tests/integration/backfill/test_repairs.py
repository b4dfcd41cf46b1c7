"""No card, or logging off: one request per gap, a translated repair issue, a fix flow (admins)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.components.repairs.websocket_api import (
    RepairsFlowIndexView,
    RepairsFlowResourceView,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest

from custom_components.whatwatt.api.client import WhatwattClient
from custom_components.whatwatt.api.errors import WhatwattConnectionError
from custom_components.whatwatt.backfill import RETRY_AFTER
from custom_components.whatwatt.const import DOMAIN
from custom_components.whatwatt.issues import ISSUE_SD_LOGGING

from .helpers import BACK, GAP, HOUR, WH, come_back, entity_ids, go_through, hourly, used

try:  # Home Assistant before 2025.11 loads repairs platforms explicitly
    from homeassistant.components.repairs.issue_handler import async_process_repairs_platforms
except ImportError:  # pragma: no cover - newer lines load them lazily
    async_process_repairs_platforms = None

if TYPE_CHECKING:
    from .helpers import Outage

LOGGING_ON = {"services": {"sd": {"enable": True}}}


def sd_requests(sim: Any) -> list[tuple[str, int]]:
    return [(r.path, r.status) for r in sim.requests if r.path.startswith("/sdcard")]


def issue_of(hass: Any, entry: Any) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_SD_LOGGING}_{entry.entry_id}")


async def fix_client(hass: Any, hass_client: Any, user: Any) -> Any:
    """Return an HTTP client of ``user`` (a token issued now: the clock has moved on)."""
    assert await async_setup_component(hass, "repairs", {})
    if async_process_repairs_platforms is not None:
        await async_process_repairs_platforms(hass)
    refresh_token = next(iter(user.refresh_tokens.values()))
    return await hass_client(hass.auth.async_create_access_token(refresh_token))


async def start_fix(client: Any, entry: Any) -> Any:
    body = {"handler": DOMAIN, "issue_id": f"{ISSUE_SD_LOGGING}_{entry.entry_id}"}
    return await client.post(RepairsFlowIndexView.url, json=body)


@pytest.mark.parametrize(
    ("card", "translation_key", "status"),
    [(True, "sd_logging_off", 200), (False, "sd_card_missing", 503)],
)
async def test_one_request_issue_and_fix_flow(
    outage: Outage,
    hass_client: Any,
    hass_access_token: str,
    hass_admin_user: Any,
    hass_read_only_access_token: str,
    hass_read_only_user: Any,
    card: bool,
    translation_key: str,
    status: int,
) -> None:
    """One listing for the gap, an issue that says why; the fix flow turns logging on."""
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    sim.state.settings["services"]["sd"]["enable"] = False
    sim.sdcard.mounted = card
    await go_through(outage, "entry_unloaded")
    sim.requests.clear()
    await come_back(outage, "entry_unloaded")
    assert sd_requests(sim) == [("/sdcard/", status)]
    found = issue_of(hass, entry)
    assert found is not None
    assert found.translation_key == translation_key
    assert found.is_fixable
    assert found.data == {"entry_id": entry.entry_id}
    assert found.learn_more_url.endswith("#history-gap-not-filled")
    # Home Assistant's time zone in the tests is US/Pacific: 18:00 UTC is 10:00.
    assert found.translation_placeholders == {
        "name": entry.title,
        "start": "2026-01-15 10:00",
        "end": "2026-01-15 13:00",
    }
    ids = entity_ids(hass)
    recorded = await hourly(hass, ids, GAP[0], BACK)
    assert all(hour not in rows for rows in recorded.values() for hour in GAP)
    # The gap is done: a reload asks the card nothing more.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await outage.settle()
    assert len(sd_requests(sim)) == 1
    await fix_flow_turns_logging_on(outage, hass_client, hass_admin_user, hass_read_only_user)


async def fix_flow_turns_logging_on(
    outage: Outage, hass_client: Any, admin: Any, read_only_user: Any
) -> None:
    """The fix flow is for admins only; it turns logging on and the issue goes."""
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    client = await fix_client(hass, hass_client, read_only_user)
    assert (await start_fix(client, entry)).status == 401
    client = await fix_client(hass, hass_client, admin)
    answer = await (await start_fix(client, entry)).json()
    assert answer["step_id"] == "confirm"
    assert answer["description_placeholders"]["start"] == "2026-01-15 10:00"
    sim.requests.clear()
    url = RepairsFlowResourceView.url.format(flow_id=answer["flow_id"])
    done = await (await client.post(url, json={})).json()
    assert done["type"] == "create_entry"
    assert [(r.method, r.path) for r in sim.requests if r.method != "GET"] == [
        ("PUT", "/api/v1/settings")
    ]
    assert sim.state.settings["services"]["sd"] == {
        "enable": True,
        "frequency": 15,
        "recorder_mode": False,
    }
    assert entry.runtime_data.device.data.settings.raw["services"]["sd"]["enable"] is True
    assert issue_of(hass, entry) is None


async def test_fix_flow_device_error_and_unloaded_entry(
    outage: Outage, hass_client: Any, hass_access_token: str, hass_admin_user: Any
) -> None:
    """A refused write shows the form again with an error; an unloaded entry aborts."""
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    sim.state.settings["services"]["sd"]["enable"] = False
    await go_through(outage, "entry_unloaded")
    await come_back(outage, "entry_unloaded")
    assert issue_of(hass, entry) is not None
    client = await fix_client(hass, hass_client, hass_admin_user)
    answer = await (await start_fix(client, entry)).json()
    url = RepairsFlowResourceView.url.format(flow_id=answer["flow_id"])
    sim.faults.status_503 = True
    again = await (await client.post(url, json={})).json()
    assert again["type"] == "form"
    assert again["errors"] == {"base": "cannot_connect"}
    sim.faults.status_503 = False
    assert await hass.config_entries.async_unload(entry.entry_id)
    aborted = await (await client.post(url, json={})).json()
    assert aborted["type"] == "abort"
    assert aborted["reason"] == "entry_not_loaded"


async def test_issue_clears_when_the_device_logs_again(outage: Outage) -> None:
    """Logging switched on elsewhere (the device's page): the next device read clears it."""
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    sim.state.settings["services"]["sd"]["enable"] = False
    await go_through(outage, "entry_unloaded")
    await come_back(outage, "entry_unloaded")
    assert issue_of(hass, entry) is not None
    sim.state.settings["services"]["sd"]["enable"] = True
    await outage.step()  # the device read of a later moment
    await entry.runtime_data.device.async_refresh()
    assert issue_of(hass, entry) is None


async def test_a_device_error_is_retried(outage: Outage, hass_storage: dict[str, Any]) -> None:
    """The card cannot be read at first: the gap stays pending and is filled on the retry."""
    hass, entry = outage.hass, outage.entry
    original = WhatwattClient.get_sdcard_listing
    calls = 0

    async def flaky(self: WhatwattClient, folder: str = "") -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise WhatwattConnectionError("Wi-Fi dropped")
        return await original(self, folder)

    await go_through(outage, "entry_unloaded")
    with patch.object(WhatwattClient, "get_sdcard_listing", flaky):
        await come_back(outage, "entry_unloaded")
        stored = hass_storage[f"{DOMAIN}.coverage.{entry.entry_id}"]["data"]
        assert stored["pending"] == [["2026-01-15T17:59:30+00:00", "2026-01-15T21:00:30+00:00"]]
        ids = entity_ids(hass)
        assert all(
            hour not in rows
            for rows in (await hourly(hass, ids, GAP[0], BACK)).values()
            for hour in GAP
        )
        await outage.run_until(BACK + RETRY_AFTER + RETRY_AFTER / 10)
        await outage.settle()
    assert calls == 2
    rows = (await hourly(hass, ids, GAP[0] - HOUR, BACK))["energy_import"]
    assert stored is not None
    assert hass_storage[f"{DOMAIN}.coverage.{entry.entry_id}"]["data"]["pending"] == []
    for hour in GAP:
        assert abs(used(rows, hour) - outage.consumption("energy_import", hour)) <= WH


async def test_a_short_gap_asks_nothing(outage: Outage) -> None:
    """Readings missing for less than a full hour: nothing to fill, no request."""
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    await outage.run_until(GAP[0] + timedelta(minutes=16))  # 18:15:30
    assert await hass.config_entries.async_unload(entry.entry_id)
    await outage.run_until(GAP[1] + timedelta(minutes=11))  # 19:10:30: no full hour missed
    sim.requests.clear()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await outage.settle()
    assert sd_requests(sim) == []


async def test_a_gap_waiting_for_its_retry_survives_an_unload(
    outage: Outage, hass_storage: dict[str, Any]
) -> None:
    """Unloaded while a retry is due: the timer goes, the gap is kept and run at the next set-up."""
    hass, entry = outage.hass, outage.entry
    key = f"{DOMAIN}.coverage.{entry.entry_id}"
    await go_through(outage, "entry_unloaded")
    failing = patch.object(
        WhatwattClient, "get_sdcard_listing", side_effect=WhatwattConnectionError("down")
    )
    with failing:
        await come_back(outage, "entry_unloaded")
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass_storage[key]["data"]["pending"] == [
        ["2026-01-15T17:59:30+00:00", "2026-01-15T21:00:30+00:00"]
    ]
    await outage.run_until(BACK + RETRY_AFTER * 2)  # no timer left to fire
    assert await hass.config_entries.async_setup(entry.entry_id)
    await outage.settle()
    assert hass_storage[key]["data"]["pending"] == []
    rows = (await hourly(hass, entity_ids(hass), GAP[0] - HOUR, BACK))["energy_import"]
    assert all(hour in rows for hour in GAP)
