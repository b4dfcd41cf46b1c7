"""scripts/develop shows every feature (issue 21), checked on the real stack (no browser).

Home Assistant, the broker and the simulated devices run as their own processes on free ports:

- among the devices, a P1 meter with a gas meter and a DLMS meter with a water and a heat meter;
- one of them is offered as discovered: a zeroconf flow of the integration is in progress;
- the broker answers on this machine's network address, the URL printed for a device;
- a device's settings survive a restart of the stack, as Home Assistant's entries do.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from scripts._develop.__main__ import _summary
from scripts._develop.stack import DevStack, StackPorts

from .helpers import all_free_ports, network_host, outside

pytestmark = pytest.mark.timeout(240)


NETWORK_HOST = network_host()


def _stack(tmp_path: Any, ports: StackPorts | None = None) -> DevStack:
    ports = ports or all_free_ports()
    return DevStack(
        config_dir=tmp_path / "config",
        run_dir=tmp_path / "run",
        ports=ports,
        network_host=NETWORK_HOST,
    )


async def _flows(stack: DevStack) -> list[dict[str, Any]]:
    """Return the flows in progress (the frontend's "Discovered" cards), over the websocket."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{stack.ha_url}/api/websocket") as ws,
    ):
        await ws.receive_json()  # auth_required
        await ws.send_json({"type": "auth", "access_token": stack.token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        for number in range(1, 51):  # discovery flows start once Home Assistant has started
            await ws.send_json({"id": number, "type": "config_entries/flow/progress"})
            flows: list[dict[str, Any]] = (await ws.receive_json())["result"]
            if flows:
                return flows
            await asyncio.sleep(0.2)
    return []


async def _name(url: str, name: str | None = None) -> str:
    async with aiohttp.ClientSession() as session:
        if name is not None:
            body = {"system": {"name": name}}
            async with session.put(f"{url}/api/v1/settings", json=body) as resp:
                assert resp.status == 200
        async with session.get(f"{url}/api/v1/settings") as resp:
            return str((await resp.json())["system"]["name"])


async def test_stack_shows_every_feature(tmp_path: Any, socket_enabled: Any) -> None:
    """Devices with sub-meters, a discovered one, the device's broker URL, kept settings."""
    stack = _stack(tmp_path)
    profiles = {device.name: device.profile for device in stack.devices}
    assert {"p1-gas", "dlms-water-heat"} <= set(profiles.values())
    rest = next(device for device in stack.devices if device.name == "rest")
    try:
        await stack.start()
        flows = await _flows(stack)
        assert [(f["handler"], f["context"]["source"]) for f in flows] == [("whatwatt", "zeroconf")]
        assert flows[0]["context"]["unique_id"] == "0A1B2C000004"
        summary = _summary(stack)
        if stack.device_broker_url is not None:  # a machine with a network address
            assert f"for a device  {stack.device_broker_url}" in summary
            host = stack.device_broker_url.removeprefix("mqtt://").rsplit(":", 1)[0]
            outside(f"import socket; socket.create_connection(({host!r}, {stack.ports.broker}))")
        assert await _name(rest.url, "Renamed meter") == "Renamed meter"
        await asyncio.sleep(2.5)  # the devices write changed settings every 2 s
    finally:
        await stack.stop()
    again = _stack(tmp_path, stack.ports)  # the same config and device settings folders
    try:
        await again.start()
        assert await _name(rest.url) == "Renamed meter"
    finally:
        await again.stop()
