"""The development stack: broker, simulated devices and Home Assistant, started in order.

The devices show every feature: REST polling of a three-phase DLMS meter with a water and a
heat meter on its bus, the live stream of a FREE single-phase meter, MQTT, and a P1 meter with
a gas meter that Home Assistant finds as "Discovered" (a zeroconf flow, `dev_discovery`). The
devices keep their settings across runs (`run_dir/devices/`), as Home Assistant keeps its
entries. The broker listens on this machine's network address too: that is the broker URL a
device can use (`device_broker_url`), loopback addresses mean nothing to a device.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
import sys
import time
from typing import TYPE_CHECKING

import aiohttp

from . import hass_api
from .broker import network_address, start_broker
from .devices import DeviceSpec, encode
from .haconfig import ROOT, write_config
from .procs import Child, Supervisor, port_is_free

if TYPE_CHECKING:
    from pathlib import Path

MQTT_TOPIC = "whatwatt/dev"


@dataclass
class StackPorts:
    """TCP ports on 127.0.0.1 (Home Assistant on `bind`)."""

    ha: int = 8123
    broker: int = 1884
    rest: int = 8081
    live: int = 8082
    mqtt: int = 8083
    discovered: int = 8084


def default_devices(ports: StackPorts, broker_host: str = "127.0.0.1") -> list[DeviceSpec]:
    """Return the four simulated devices of scripts/develop (the MQTT one uses `broker_host`)."""
    return [
        DeviceSpec(
            "rest",
            ports.rest,
            "dlms-water-heat",
            "plus",
            "0A1B2C000001",
            "Three-phase meter",
            summary="three-phase meter with a water and a heat meter, Plus licence",
        ),
        DeviceSpec(
            "live",
            ports.live,
            "p1-single",
            "free",
            "0A1B2C000002",
            "Single-phase meter",
            summary="single-phase meter, FREE licence",
        ),
        DeviceSpec(
            "mqtt",
            ports.mqtt,
            "p1-single",
            "plus",
            "0A1B2C000003",
            "MQTT meter",
            mqtt_url=f"mqtt://{broker_host}:{ports.broker}",
            mqtt_topic=MQTT_TOPIC,
            summary="publishing every 10 s, Plus licence",
        ),
        DeviceSpec(
            "discovered",
            ports.discovered,
            "p1-gas",
            "plus",
            "0A1B2C000004",
            "Gas and power meter",
            summary="P1 meter with a gas meter, Plus licence, offered as Discovered",
        ),
    ]


@dataclass
class DevStack:
    """Starts and stops the stack; `timings` records seconds per phase."""

    config_dir: Path
    run_dir: Path
    ports: StackPorts = field(default_factory=StackPorts)
    bind: str = "127.0.0.1"
    with_broker: bool = True
    broker: str = "auto"  # auto | mosquitto | amqtt
    with_devices: bool = True
    ha_timeout: float = 150.0
    timings: dict[str, float] = field(default_factory=dict)
    broker_kind: str = ""
    token: str = ""
    mqtt_entry_created: bool = False
    hass: Child | None = None
    # This machine's network address: where a device reaches the broker (None: not found).
    network_host: str | None = field(default_factory=network_address)

    def __post_init__(self) -> None:
        """Create the supervisor that owns every child process."""
        self.supervisor = Supervisor(self.run_dir / "logs")
        broker_host = self.network_host or "127.0.0.1"
        devices = default_devices(self.ports, broker_host) if self.with_devices else []
        # The devices reach the broker at the network address (a simulator dials loopback only).
        self.devices = [replace(d, reachable_hosts=(broker_host,)) for d in devices]

    @property
    def device_broker_url(self) -> str | None:
        """The broker URL a whatwatt Go can use (None without a network address)."""
        if not self.with_broker or self.network_host is None:
            return None
        return f"mqtt://{self.network_host}:{self.ports.broker}"

    @property
    def discovered(self) -> list[tuple[str, int, str]]:
        """The devices announced as zeroconf would: host, port, device id."""
        return [("127.0.0.1", d.port, d.device_id) for d in self.devices if d.name == "discovered"]

    @property
    def ha_url(self) -> str:
        """Home Assistant's address as seen from this machine."""
        host = "127.0.0.1" if self.bind in ("0.0.0.0", "127.0.0.1") else self.bind  # noqa: S104
        return f"http://{host}:{self.ports.ha}"

    def check_ports(self) -> None:
        """Raise OSError naming any wanted port that is already taken."""
        wanted = {"Home Assistant": self.ports.ha}
        if self.with_broker:
            wanted["broker"] = self.ports.broker
        wanted.update({f"{d.name} device": d.port for d in self.devices})
        busy = [f"{what} ({port})" for what, port in wanted.items() if not port_is_free(port)]
        if busy:
            raise OSError(f"ports already in use: {', '.join(busy)}; see scripts/develop --help")

    async def start(self) -> None:
        """Start broker, devices and Home Assistant; log in; add the MQTT entry."""
        left = self.supervisor.stop_leftovers()
        if left:
            print(f"stopped processes left by an earlier run: {left}", flush=True)
        self.check_ports()
        t0 = time.monotonic()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_config(
            self.config_dir, port=self.ports.ha, bind=self.bind, discovered=self.discovered
        )
        hass = await self.supervisor.start(
            "homeassistant",
            [
                sys.executable,
                "-P",  # not the repository's custom_components/: it would hide the config's own
                "-m",
                "homeassistant",
                "--config",
                str(self.config_dir),
                "--skip-pip",
            ],
            cwd=ROOT,
        )
        self.hass = hass
        if self.with_broker:
            hosts = ["127.0.0.1", *([self.network_host] if self.network_host else [])]
            _, self.broker_kind = await start_broker(
                self.supervisor, self.ports.broker, self.run_dir, self.broker, hosts
            )
            self.timings["broker"] = time.monotonic() - t0
        if self.devices:
            await self.supervisor.start(
                "devices",
                [
                    sys.executable,
                    "-m",
                    "scripts._develop.devices",
                    encode(self.devices),
                    str(self.run_dir / "devices"),
                ],
                cwd=ROOT,
                ready_prefix="READY ",
                ready_count=len(self.devices),
                limit=60,
            )
            self.timings["devices"] = time.monotonic() - t0
        async with aiohttp.ClientSession() as session:
            await hass_api.wait_until_up(
                session, self.ha_url, limit=self.ha_timeout, alive=hass.check_alive
            )
            self.timings["homeassistant"] = time.monotonic() - t0
            self.token = await hass_api.ensure_token(session, self.ha_url)
            await hass_api.wait_until_running(
                session, self.ha_url, self.token, limit=self.ha_timeout
            )
            if self.with_broker:
                # The address devices can use too: "configure the device for me" proposes it.
                self.mqtt_entry_created = await hass_api.ensure_mqtt_entry(
                    session,
                    self.ha_url,
                    self.token,
                    broker=self.network_host or "127.0.0.1",
                    port=self.ports.broker,
                )
        self.timings["ready"] = time.monotonic() - t0

    async def stop(self) -> None:
        """Stop every process the stack started, by pid: Home Assistant first, then the rest."""
        if self.hass is not None:
            await self.supervisor.stop(self.hass, grace=30.0)
        await self.supervisor.stop_all(grace=10.0)
