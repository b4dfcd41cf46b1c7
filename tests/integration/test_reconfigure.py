"""Config flow, reconfigure: the transport menu again, then the ``rest`` and ``live`` branches.

The ``mqtt`` branch of reconfigure is in ``test_mqtt_reconfigure.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt.const import (
    CONF_SCAN_INTERVAL,
    CONF_TOPIC,
    CONF_TRANSPORT,
    DOMAIN,
    TRANSPORT_LIVE,
    TRANSPORT_MQTT,
    TRANSPORT_REST,
)
from custom_components.whatwatt.push_live import LiveSource

from .conftest import DEVICE_ID, host_of
from .helpers import free_licence_menu, wrong_then_right

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

ROOT = Path(__file__).parents[2] / "custom_components" / "whatwatt"
SimFactory = Callable[..., Awaitable[Any]]


def make_entry(
    hass: HomeAssistant, data: dict[str, Any], options: dict[str, Any] | None = None
) -> MockConfigEntry:
    """Add an entry of the simulated device (not set up)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="whatwatt Go D4E5F6",
        unique_id=DEVICE_ID,
        data=data,
        options=options or {},
    )
    entry.add_to_hass(hass)
    return entry


async def choose(hass: HomeAssistant, entry: MockConfigEntry, transport: str) -> dict[str, Any]:
    """Start reconfigure on ``entry`` and pick ``transport`` in its menu."""
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == f"reconfigure_{entry.data[CONF_TRANSPORT]}"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": transport}
    )


def suggested(result: dict[str, Any], field: str) -> Any:
    """Return the value a form suggests for ``field``."""
    key = next(key for key in result["data_schema"].schema if key == field)
    return (key.description or {}).get("suggested_value")


@pytest.mark.parametrize(
    "data",
    [
        {CONF_HOST: "192.0.2.10", CONF_TRANSPORT: TRANSPORT_REST},
        {CONF_HOST: "192.0.2.10", CONF_TRANSPORT: TRANSPORT_LIVE},
        {CONF_TRANSPORT: TRANSPORT_MQTT, CONF_TOPIC: f"whatwatt/{DEVICE_ID}"},
    ],
)
async def test_menu(hass: HomeAssistant, data: dict[str, Any]) -> None:
    """Reconfigure starts with the same transport menu as set-up, naming entry and transport.

    The title is fixed text: a menu's title gets no placeholders on Home Assistant 2025.4. The
    current transport is named by the menu's own translated text (one menu per transport),
    never as a raw key in a placeholder.
    """
    entry = make_entry(hass, data)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == f"reconfigure_{data[CONF_TRANSPORT]}"
    assert result["menu_options"] == ["rest", "mqtt", "live"]
    assert result["description_placeholders"] == {"name": "whatwatt Go D4E5F6"}


@pytest.mark.parametrize("language", ["strings", "en", "de", "fr", "it", "nl", "pl"])
def test_menu_texts(language: str) -> None:
    """Each menu's title has no placeholder; its description names the entry and, in words
    of its language (the transport's menu label), the current transport."""
    name = "strings.json" if language == "strings" else f"translations/{language}.json"
    path = ROOT / name
    steps = json.loads(path.read_text(encoding="utf-8"))["config"]["step"]
    assert "reconfigure" not in steps
    descriptions = set()
    for transport in ("rest", "mqtt", "live"):
        step = steps[f"reconfigure_{transport}"]
        assert "{" not in step["title"]
        assert "{name}" in step["description"]
        assert "{current}" not in step["description"]
        assert f": {transport}" not in step["description"]  # no raw key ("uses: live")
        descriptions.add(step["description"])
    assert len(descriptions) == 3  # each names its own transport
    if language in ("strings", "en"):
        for transport in ("rest", "mqtt", "live"):
            label = steps["user"]["menu_options"][transport].split(" (")[0]  # "REST polling"
            assert label.lower() in steps[f"reconfigure_{transport}"]["description"].lower()


async def test_same_transport_new_address(
    hass: HomeAssistant, simulator_factory: SimFactory, device: Any
) -> None:
    """The same device at a new, protected address: errors first, then the password step."""
    moved = await simulator_factory(auth="digest", password="secret", telegram_interval=0)
    await moved.emit_telegram()
    entry = make_entry(
        hass, {CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_REST}, {CONF_SCAN_INTERVAL: 30}
    )
    result = await choose(hass, entry, TRANSPORT_REST)
    assert result["step_id"] == "rest"
    assert suggested(result, CONF_HOST) == host_of(device)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "http://x"}
    )
    assert result["errors"] == {CONF_HOST: "invalid_host"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(moved)}
    )
    assert result["step_id"] == "password"
    result = await wrong_then_right(hass, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {
        CONF_HOST: host_of(moved),
        CONF_PASSWORD: "secret",
        CONF_TRANSPORT: TRANSPORT_REST,
    }
    assert entry.options == {CONF_SCAN_INTERVAL: 30}
    assert entry.unique_id == DEVICE_ID
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_stored_password_is_tried_first(
    hass: HomeAssistant, simulator_factory: SimFactory
) -> None:
    """A protected device whose password did not change is not asked for it again."""
    sim = await simulator_factory(auth="digest", password="secret", telegram_interval=0)
    await sim.emit_telegram()
    entry = make_entry(
        hass,
        {CONF_HOST: "192.0.2.10", CONF_PASSWORD: "secret", CONF_TRANSPORT: TRANSPORT_REST},
        {CONF_SCAN_INTERVAL: 10},
    )
    result = await choose(hass, entry, TRANSPORT_REST)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(sim)}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PASSWORD] == "secret"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_other_device_refused(
    hass: HomeAssistant, simulator_factory: SimFactory, device: Any
) -> None:
    """Another whatwatt Go at the address is a form error (the address kept, to correct).

    The entry stays as it was until the right address is given in the same flow.
    """
    other = await simulator_factory(auth="none", telegram_interval=0, device_id="0011223344AA")
    data = {CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_REST}
    entry = make_entry(hass, dict(data))
    for transport in (TRANSPORT_REST, TRANSPORT_LIVE):
        result = await choose(hass, entry, transport)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: host_of(other)}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == transport
        assert result["errors"] == {"base": "wrong_device"}
        assert suggested(result, CONF_HOST) == host_of(other)
        assert entry.data == data
        assert entry.unique_id == DEVICE_ID
        hass.config_entries.flow.async_abort(result["flow_id"])
    result = await choose(hass, entry, TRANSPORT_REST)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(other)}
    )
    with patch("custom_components.whatwatt.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: host_of(device)}
        )
    assert result["reason"] == "reconfigure_successful"


async def test_rest_to_live_on_free_licence(hass: HomeAssistant, device: Any) -> None:
    """FREE refuses REST (pointing to live); live then works after a failed try, and streams."""
    device.set_license("free")
    entry = make_entry(
        hass, {CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_REST}, {CONF_SCAN_INTERVAL: 10}
    )
    result = await choose(hass, entry, TRANSPORT_REST)
    user_input = {CONF_HOST: host_of(device)}
    result = await free_licence_menu(hass, result, user_input, "reconfigure")
    back = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "reconfigure"}
    )
    assert back["step_id"] == "reconfigure_rest"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": TRANSPORT_LIVE}
    )
    assert result["step_id"] == "live"
    assert suggested(result, CONF_HOST) == host_of(device)
    device.faults.refuse = True
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(device)}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    device.faults.refuse = False
    await device.wait_up()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(device)}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_LIVE}
    assert entry.options == {}  # no polling interval on a push transport
    assert entry.unique_id == DEVICE_ID
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert isinstance(entry.runtime_data.source, LiveSource)
    assert entry.runtime_data.measurements.update_interval is None
    await device.live.wait_clients(1)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_live_to_rest(hass: HomeAssistant, device: Any) -> None:
    """A loaded live entry switched to REST reloads as a polling entry with the default interval."""
    entry = make_entry(hass, {CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_LIVE})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await device.live.wait_clients(1)
    result = await choose(hass, entry, TRANSPORT_REST)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(device)}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data == {CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_REST}
    assert entry.options == {CONF_SCAN_INTERVAL: 10}
    assert entry.state is ConfigEntryState.LOADED
    runtime = entry.runtime_data
    assert runtime.source is None  # REST polling: no push source
    assert runtime.measurements.update_interval is not None
    assert runtime.measurements.update_interval.total_seconds() >= 10
    assert "/api/v1/report" in {r.path for r in device.requests}


async def test_mqtt_to_live_drops_topic(hass: HomeAssistant, device: Any) -> None:
    """An MQTT-only entry can move to the live stream by giving its address; the topic goes."""
    entry = make_entry(hass, {CONF_TRANSPORT: TRANSPORT_MQTT, CONF_TOPIC: "whatwatt/x"})
    result = await choose(hass, entry, TRANSPORT_LIVE)
    assert suggested(result, CONF_HOST) is None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(device)}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_LIVE}
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await device.live.wait_clients(1)
    assert await hass.config_entries.async_unload(entry.entry_id)
