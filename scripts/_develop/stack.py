"""The development stack: broker, simulated devices and Home Assistant, started in order."""

from __future__ import annotations

from dataclasses import dataclass, field
import sys
import time
from typing import TYPE_CHECKING

import aiohttp

from . import hass_api
from .broker import start_broker
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


def default_devices(ports: StackPorts) -> list[DeviceSpec]:
    """Return the three simulated devices of scripts/develop."""
    return [
        DeviceSpec("rest", ports.rest, "dlms-three", "plus", "0A1B2C000001", "Three-phase meter"),
        DeviceSpec("live", ports.live, "p1-single", "free", "0A1B2C000002", "Single-phase meter"),
        DeviceSpec(
            "mqtt",
            ports.mqtt,
            "p1-single",
            "plus",
            "0A1B2C000003",
            "MQTT meter",
            mqtt_url=f"mqtt://127.0.0.1:{ports.broker}",
            mqtt_topic=MQTT_TOPIC,
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

    def __post_init__(self) -> None:
        """Create the supervisor that owns every child process."""
        self.supervisor = Supervisor(self.run_dir / "logs")
        self.devices = default_devices(self.ports) if self.with_devices else []

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
        write_config(self.config_dir, port=self.ports.ha, bind=self.bind)
        hass = await self.supervisor.start(
            "homeassistant",
            [
                sys.executable,
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
            _, self.broker_kind = await start_broker(
                self.supervisor, self.ports.broker, self.run_dir, self.broker
            )
            self.timings["broker"] = time.monotonic() - t0
        if self.devices:
            await self.supervisor.start(
                "devices",
                [sys.executable, "-m", "scripts._develop.devices", encode(self.devices)],
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
                self.mqtt_entry_created = await hass_api.ensure_mqtt_entry(
                    session, self.ha_url, self.token, broker="127.0.0.1", port=self.ports.broker
                )
        self.timings["ready"] = time.monotonic() - t0

    async def stop(self) -> None:
        """Stop every process the stack started, by pid: Home Assistant first, then the rest."""
        if self.hass is not None:
            await self.supervisor.stop(self.hass, grace=30.0)
        await self.supervisor.stop_all(grace=10.0)
