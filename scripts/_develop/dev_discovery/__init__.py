"""Development stack only: announce simulated whatwatt Go devices as HA's zeroconf would.

scripts/develop links this folder into its config as ``custom_components/whatwatt_dev_discovery``
and lists the devices in ``configuration.yaml``::

    whatwatt_dev_discovery:
      - {host: 127.0.0.1, port: 8084, id: 0A1B2C000004}

For each one a ``zeroconf`` discovery flow of the whatwatt integration starts once Home Assistant
has started (``discovery_flow.async_create_flow``, the call the zeroconf integration makes), so
the device shows as "Discovered" under Settings → Devices & services. Not part of the integration.
"""

from __future__ import annotations

from ipaddress import ip_address
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_ZEROCONF
from homeassistant.helpers import discovery_flow
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

DOMAIN = "whatwatt_dev_discovery"
_LOGGER = logging.getLogger(__name__)


def service_info(device: dict[str, Any]) -> ZeroconfServiceInfo:
    """Return what mDNS would tell about one device (``_http._tcp`` with its id)."""
    address = ip_address(str(device["host"]))
    device_id = str(device["id"]).upper()
    name = f"whatwatt-{device_id[-6:]}"
    return ZeroconfServiceInfo(
        ip_address=address,
        ip_addresses=[address],
        port=int(device["port"]),
        hostname=f"{name}.local.",
        type="_http._tcp.local.",
        name=f"{name}._http._tcp.local.",
        properties={"id": device_id},
    )


async def async_setup(hass: HomeAssistant, config: dict[str, Any]) -> bool:
    """Start one zeroconf discovery flow of the whatwatt integration per listed device."""
    for device in config.get(DOMAIN) or []:
        _LOGGER.warning("Announcing the simulated whatwatt Go %s as discovered", device)
        discovery_flow.async_create_flow(
            hass, "whatwatt", {"source": SOURCE_ZEROCONF}, service_info(device)
        )
    return True
