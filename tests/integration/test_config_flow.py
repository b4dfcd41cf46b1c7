"""Config flow: menu, REST and live address steps, password, zeroconf, reauth, options.

Reconfigure is in ``test_reconfigure.py`` and ``test_mqtt_reconfigure.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any
from unittest.mock import AsyncMock, MagicMock, patch

from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt.api.client import WhatwattClient
from custom_components.whatwatt.config_flow import WhatwattConfigFlow
from custom_components.whatwatt.const import (
    CONF_DEMAND_PEAKS,
    CONF_DEMAND_WINDOW,
    CONF_SCAN_INTERVAL,
    CONF_TOPIC,
    CONF_TRANSPORT,
    DOMAIN,
    TRANSPORT_LIVE,
    TRANSPORT_MQTT,
    TRANSPORT_REST,
)

from .conftest import DEVICE_ID, host_of
from .helpers import wrong_then_right

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

# The demand options every options form shows, with their defaults.
DEMAND_DEFAULTS = {CONF_DEMAND_WINDOW: 15, CONF_DEMAND_PEAKS: 1}

SimFactory = Callable[..., Awaitable[Any]]


@pytest.fixture
async def protected(simulator_factory: SimFactory) -> Any:
    """A password-protected device (Digest)."""
    sim = await simulator_factory(auth="digest", password="secret", telegram_interval=0)
    await sim.emit_telegram()
    return sim


async def start_rest(hass: HomeAssistant) -> dict[str, Any]:
    """Open the flow and pick REST polling in the menu."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": TRANSPORT_REST}
    )


async def zeroconf_to_password(hass: HomeAssistant, device: Any) -> dict[str, Any]:
    """Discover the protected ``device`` and confirm it: its password is asked."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(device.port)
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "password"
    return result


async def start_reauth(
    hass: HomeAssistant, device: Any, unique_id: str
) -> tuple[MockConfigEntry, dict[str, Any]]:
    """Add a REST entry of ``device`` with an old password and start its reauth."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=unique_id,
        data={CONF_HOST: host_of(device), CONF_PASSWORD: "old", CONF_TRANSPORT: "rest"},
    )
    entry.add_to_hass(hass)
    return entry, await entry.start_reauth_flow(hass)


def zeroconf_info(port: int, *, device_id: str | None = DEVICE_ID, ip: str = "127.0.0.1") -> Any:
    """Return an mDNS announcement like the device's."""
    properties = {"type": "100"}
    if device_id:
        properties["id"] = device_id
    return ZeroconfServiceInfo(
        ip_address=ip_address(ip),
        ip_addresses=[ip_address(ip)],
        hostname="whatwatt-D4E5F6.local.",
        name="whatwatt Go D4E5F6 WebUI._http._tcp.local.",
        port=port,
        type="_http._tcp.local.",
        properties=properties,
    )


async def test_menu(hass: HomeAssistant) -> None:
    """The first step is the transport menu."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == ["rest", "mqtt", "live"]


async def test_mqtt_without_mqtt_integration(hass: HomeAssistant) -> None:
    """The MQTT branch needs Home Assistant's MQTT integration (more in test_mqtt_flow.py)."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mqtt"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_configured"


async def test_rest_success(hass: HomeAssistant, device: Any) -> None:
    """An open Plus device is added with its id as unique id, and set up."""
    result = await start_rest(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "rest"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: f" {host_of(device)} "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "whatwatt Go D4E5F6"
    assert result["data"] == {CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_REST}
    assert result["options"] == {CONF_SCAN_INTERVAL: 10}
    entry = result["result"]
    assert entry.unique_id == DEVICE_ID
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"refuse": True}, "cannot_connect"),
        ({"status_503": True}, "cannot_connect"),
        ({"malformed": True}, "not_whatwatt_device"),
    ],
)
async def test_rest_error_then_success(
    hass: HomeAssistant, device: Any, fault: dict[str, bool], error: str
) -> None:
    """Each device failure shows its error; the next try succeeds."""
    result = await start_rest(hass)
    device.faults.update(fault)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(device)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    device.faults.clear()
    await device.wait_up()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(device)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    "host", ["http://127.0.0.1", "127.0.0.1/api", "admin@127.0.0.1", "127.0.0.1:99999", ""]
)
async def test_rest_invalid_host(hass: HomeAssistant, device: Any, host: str) -> None:
    """Schemes, paths, credentials and bad ports are refused before any request."""
    result = await start_rest(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_HOST: host})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "invalid_host"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(device)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_rest_timeout(hass: HomeAssistant, device: Any) -> None:
    """A device that answers too late shows the timeout error."""
    result = await start_rest(hass)
    device.faults.delay = 0.3
    with patch(
        "custom_components.whatwatt.config_flow.WhatwattClient",
        partial(WhatwattClient, timeout=0.05),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: host_of(device)}
        )
    assert result["errors"] == {"base": "timeout"}
    device.faults.delay = 0
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(device)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_rest_unexpected_error(hass: HomeAssistant, device: Any) -> None:
    """An unexpected failure (not producible by the device) shows `unknown`."""
    result = await start_rest(hass)
    with patch.object(WhatwattClient, "get_system", side_effect=RuntimeError("boom")):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: host_of(device)}
        )
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(device)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_rest_free_license(hass: HomeAssistant, device: Any) -> None:
    """A FREE device cannot be polled: a menu leads back to the transports, or to live.

    Back in the menu, REST works once the licence is Plus; the live choice keeps the address.
    """
    device.set_license("free")
    result = await start_rest(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(device)}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "license_free"
    assert result["menu_options"] == ["live", "user"]
    back = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "user"}
    )
    assert back["type"] is FlowResultType.MENU
    assert back["step_id"] == "user"
    device.set_license("plus")
    result = await hass.config_entries.flow.async_configure(
        back["flow_id"], {"next_step_id": TRANSPORT_REST}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(device)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_live_free_license(hass: HomeAssistant, device: Any) -> None:
    """The live branch accepts a FREE device, and its entry loads (the stream needs no Plus)."""
    device.set_license("free")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": TRANSPORT_LIVE}
    )
    assert result["step_id"] == "live"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(device)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_LIVE}
    assert result["options"] == {}
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    await device.live.wait_clients(1)
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_password(hass: HomeAssistant, protected: Any) -> None:
    """A protected device asks for its password; a wrong one is refused."""
    result = await start_rest(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(protected)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "password"
    result = await wrong_then_right(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_HOST: host_of(protected),
        CONF_PASSWORD: "secret",
        CONF_TRANSPORT: TRANSPORT_REST,
    }
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


async def test_already_configured_updates_host(hass: HomeAssistant, device: Any) -> None:
    """Adding a known device again aborts and stores the new address."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DEVICE_ID,
        data={CONF_HOST: "192.0.2.10", CONF_TRANSPORT: TRANSPORT_REST},
    )
    entry.add_to_hass(hass)
    result = await start_rest(hass)
    with patch("custom_components.whatwatt.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: host_of(device)}
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == host_of(device)


async def test_zeroconf_new_device(hass: HomeAssistant, device: Any) -> None:
    """A discovered device is confirmed, then added (after a failed first try)."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(device.port)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "discovery_confirm"
    assert result["description_placeholders"] == {
        "name": "whatwatt Go D4E5F6",
        "host": host_of(device),
    }
    device.faults.refuse = True
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "cannot_connect"}
    device.faults.refuse = False
    await device.wait_up()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_REST}
    assert result["result"].unique_id == DEVICE_ID


async def test_zeroconf_protected(hass: HomeAssistant, protected: Any) -> None:
    """A discovered protected device asks for the password after the confirmation."""
    result = await zeroconf_to_password(hass, protected)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "secret"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PASSWORD] == "secret"


@pytest.mark.parametrize(
    ("ip", "port", "expected"),
    [
        ("192.0.2.20", 80, "192.0.2.20"),
        ("192.0.2.20", 8080, "192.0.2.20:8080"),
        ("2001:db8::20", 81, "[2001:db8::20]:81"),
    ],
)
async def test_zeroconf_known_device_moved(
    hass: HomeAssistant, ip: str, port: int, expected: str
) -> None:
    """A known device announced at a new address gets its host updated silently."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DEVICE_ID,
        data={CONF_HOST: "192.0.2.10", CONF_TRANSPORT: TRANSPORT_REST},
    )
    entry.add_to_hass(hass)
    with patch("custom_components.whatwatt.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_init(
            DOMAIN,
            context={"source": SOURCE_ZEROCONF},
            data=zeroconf_info(port, device_id=DEVICE_ID.lower(), ip=ip),
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == expected


async def test_zeroconf_free_licence_adds_live(hass: HomeAssistant, device: Any) -> None:
    """A discovered FREE device is added with the live stream (the form says so), and streams."""
    device.set_license("free")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(device.port)
    )
    assert result["step_id"] == "discovery_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_LIVE}
    assert result["options"] == {}
    entry = result["result"]
    assert entry.unique_id == DEVICE_ID
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await device.live.wait_clients(1)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_zeroconf_free_licence_protected(hass: HomeAssistant, protected: Any) -> None:
    """The licence of a protected device shows after its password: FREE still ends in live."""
    protected.set_license("free")
    result = await zeroconf_to_password(hass, protected)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    with patch("custom_components.whatwatt.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PASSWORD: "secret"}
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_HOST: host_of(protected),
        CONF_PASSWORD: "secret",
        CONF_TRANSPORT: TRANSPORT_LIVE,
    }


async def test_zeroconf_keeps_mqtt_only_entry(hass: HomeAssistant) -> None:
    """An announcement does not silently give an MQTT-only entry an address."""
    data = {CONF_TRANSPORT: TRANSPORT_MQTT, CONF_TOPIC: "whatwatt/x"}
    entry = MockConfigEntry(domain=DOMAIN, unique_id=DEVICE_ID, data=dict(data))
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(80, ip="192.0.2.20")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured_kept"
    assert entry.data == data


async def test_zeroconf_without_id(hass: HomeAssistant) -> None:
    """An announcement without the id TXT record is not a whatwatt Go."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(80, device_id=None)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_whatwatt_device"


async def test_reauth(hass: HomeAssistant, protected: Any) -> None:
    """A new password is checked and stored; the entry reloads."""
    entry, result = await start_reauth(hass, protected, DEVICE_ID)
    assert result["step_id"] == "reauth_confirm"
    result = await wrong_then_right(hass, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_PASSWORD] == "secret"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_reauth_other_device(hass: HomeAssistant, protected: Any) -> None:
    """Reauth refuses a different device answering at the entry's address."""
    _, result = await start_reauth(hass, protected, "0011223344AA")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "secret"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"


async def test_options(hass: HomeAssistant, device: Any) -> None:
    """The polling interval is stored and applied at once (2 to 300 s)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DEVICE_ID,
        data={CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_REST},
        options={CONF_SCAN_INTERVAL: 10},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert result["description_placeholders"] is None  # no sub-meters: no sub-meter text
    for wrong in (1, 301):  # out of range: an error that says so, the value kept
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_SCAN_INTERVAL: wrong}
        )
        assert result["errors"] == {CONF_SCAN_INTERVAL: "scan_interval_out_of_range"}
        key = next(key for key in result["data_schema"].schema if key == CONF_SCAN_INTERVAL)
        assert key.description == {"suggested_value": wrong}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 45}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_SCAN_INTERVAL: 45, **DEMAND_DEFAULTS}
    assert entry.runtime_data.measurements.update_interval.total_seconds() == 45
    await hass.async_block_till_done()


async def test_options_reach_the_measurement_coordinator(hass: HomeAssistant) -> None:
    """A loaded entry's measurement coordinator gets the new interval and refreshes at once."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DEVICE_ID,
        data={CONF_HOST: "192.0.2.10", CONF_TRANSPORT: TRANSPORT_REST},
        options={CONF_SCAN_INTERVAL: 10},
        state=ConfigEntryState.LOADED,
    )
    entry.add_to_hass(hass)
    measurements = MagicMock()
    measurements.async_request_refresh = AsyncMock()
    entry.runtime_data = MagicMock(measurements=measurements)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 45}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    measurements.set_scan_interval.assert_called_once_with(45)
    measurements.async_request_refresh.assert_awaited_once()


async def test_options_not_loaded(hass: HomeAssistant) -> None:
    """Options can be changed while the entry is not loaded."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DEVICE_ID,
        data={CONF_HOST: "192.0.2.10", CONF_TRANSPORT: TRANSPORT_REST},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 120}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_SCAN_INTERVAL: 120, **DEMAND_DEFAULTS}


@pytest.mark.parametrize("transport", [TRANSPORT_LIVE, TRANSPORT_MQTT])
async def test_options_of_push_entries_have_no_polling_interval(
    hass: HomeAssistant, device: Any, transport: str
) -> None:
    """Push entries have options (the demand) but no polling interval; they never poll."""
    data = {CONF_HOST: host_of(device), CONF_TRANSPORT: transport}
    if transport == TRANSPORT_MQTT:
        data[CONF_TOPIC] = "whatwatt/x"
    entry = MockConfigEntry(domain=DOMAIN, unique_id=DEVICE_ID, data=data)
    entry.add_to_hass(hass)
    assert WhatwattConfigFlow.async_supports_options_flow(entry)
    if transport == TRANSPORT_LIVE:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        await device.live.wait_clients(1)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert set(map(str, result["data_schema"].schema)) == set(DEMAND_DEFAULTS)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_DEMAND_WINDOW: "60", CONF_DEMAND_PEAKS: 3}
    )
    assert entry.options == {CONF_DEMAND_WINDOW: 60, CONF_DEMAND_PEAKS: 3}
    if transport == TRANSPORT_LIVE:
        assert entry.runtime_data.measurements.update_interval is None
        assert await hass.config_entries.async_unload(entry.entry_id)


HOSTILE_IDS = ["x", "../../etc/passwd", "AB+CD#EF0123", "A1B2C3D4E5F6\u0000", "A1B2C3D4E5F"]


@pytest.mark.parametrize("device_id", HOSTILE_IDS)
async def test_zeroconf_hostile_id(hass: HomeAssistant, device_id: str) -> None:
    """An announced id that is not 12 hexadecimal digits is not a whatwatt Go."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(80, device_id=device_id)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_whatwatt_device"
    assert not hass.config_entries.async_entries(DOMAIN)


@pytest.mark.parametrize("device_id", HOSTILE_IDS)
async def test_rest_hostile_id(
    hass: HomeAssistant, simulator_factory: SimFactory, device_id: str
) -> None:
    """A device answering with such an id becomes no entry: the form says why."""
    sim = await simulator_factory(auth="none", telegram_interval=0, device_id=device_id)
    result = await start_rest(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(sim)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "not_whatwatt_device"}
    assert not hass.config_entries.async_entries(DOMAIN)
