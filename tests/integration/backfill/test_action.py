"""The action ``whatwatt.backfill``: admins only, its checks, Home Assistant without recorder."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import Context
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.util import dt as dt_util
import pytest

from custom_components.whatwatt.const import DOMAIN
from custom_components.whatwatt.services import ATTR_CONFIG_ENTRY_ID

from .helpers import START, backfill

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from .helpers import Outage


async def refused(hass: HomeAssistant, entry: MockConfigEntry, **times: Any) -> Any:
    with pytest.raises(ServiceValidationError) as err:
        await backfill(hass, entry, **times)
    return err.value


async def test_admins_only_and_checks(outage: Outage, hass_read_only_user: Any) -> None:
    """Non-admins are refused; a range must be forward, recent, on an entry with an address."""
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    now = dt_util.utcnow()
    sim.requests.clear()
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "backfill",
            {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "start": now - timedelta(hours=3)},
            blocking=True,
            return_response=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    err = await refused(hass, entry, start=now, end=now - timedelta(hours=1))
    assert err.translation_key == "backfill_invalid_range"
    err = await refused(hass, entry, start=now - timedelta(days=8))
    assert err.translation_key == "backfill_too_old"
    assert err.translation_placeholders == {"days": "7"}
    client, entry.runtime_data.client = entry.runtime_data.client, None
    try:
        err = await refused(hass, entry, start=now - timedelta(hours=3))
    finally:
        entry.runtime_data.client = client
    assert err.translation_key == "backfill_no_address"
    assert sim.requests == []
    # Less than a full hour that has ended: nothing to do, nothing asked (times may be local).
    answer = await backfill(hass, entry, start=dt_util.as_local(now) - timedelta(minutes=30))
    assert answer == {
        "outcome": "nothing_missing",
        "start": None,
        "end": None,
        "hours": 0,
        "sensors": {},
    }
    assert sim.requests == []


async def test_without_recorder(
    hass: HomeAssistant,
    sim: Any,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Without the recorder the action refuses, and the watcher drops the gap it finds."""
    key = f"{DOMAIN}.coverage.{mock_config_entry.entry_id}"
    earlier = (START - timedelta(hours=3)).isoformat()
    hass_storage[key] = {"version": 1, "data": {"last_reading": earlier, "pending": []}}
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    err = await refused(hass, mock_config_entry, start=START - timedelta(hours=3))
    assert err.translation_key == "backfill_no_recorder"
    assert not [r for r in sim.requests if r.path.startswith("/sdcard")]
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    assert hass_storage[key]["data"] == {"last_reading": START.isoformat(), "pending": []}
