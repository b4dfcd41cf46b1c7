"""Host the simulated whatwatt Go devices of the development stack in one process.

`python -m scripts._develop.devices '<json list of DeviceSpec fields>'` starts one simulator per
entry on 127.0.0.1, prints `READY <name> <url>` for each, and runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
import json
import signal
import sys


@dataclass(frozen=True)
class DeviceSpec:
    """One simulated device: where it listens and what it is."""

    name: str  # short role name: rest, live, mqtt
    port: int
    profile: str  # p1-single | dlms-three
    license: str  # plus | free
    device_id: str
    device_name: str
    mqtt_url: str | None = None
    mqtt_topic: str | None = None

    @property
    def url(self) -> str:
        """Base URL of the simulated device."""
        return f"http://127.0.0.1:{self.port}"


def encode(specs: list[DeviceSpec]) -> str:
    """Return the command-line form of `specs`."""
    return json.dumps([asdict(s) for s in specs])


async def _run(specs: list[DeviceSpec]) -> None:
    from simulator import Simulator, SimulatorConfig  # noqa: PLC0415

    sims = []
    try:
        for spec in specs:
            sim = Simulator(
                SimulatorConfig(
                    host="127.0.0.1",
                    port=spec.port,
                    auth="none",
                    license=spec.license,  # type: ignore[arg-type]
                    profile=spec.profile,  # type: ignore[arg-type]
                    device_id=spec.device_id,
                    device_name=spec.device_name,
                    mqtt_url=spec.mqtt_url,
                    mqtt_topic=spec.mqtt_topic,
                    report_interval=10 if spec.mqtt_url else 30,
                )
            )
            await sim.start()
            sims.append(sim)
            print(f"READY {spec.name} {sim.url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        for sim in reversed(sims):
            await sim.stop()


def main() -> None:
    """Start the devices given as JSON in the first argument."""
    specs = [DeviceSpec(**item) for item in json.loads(sys.argv[1])]
    asyncio.run(_run(specs))


if __name__ == "__main__":
    main()
