"""Host the simulated whatwatt Go devices of the development stack in one process.

`python -m scripts._develop.devices '<json list of DeviceSpec fields>' [STATE_DIR]` starts one
simulator per entry on 127.0.0.1, prints `READY <name> <url>` for each, and runs until SIGTERM
or SIGINT. With STATE_DIR, each device keeps its settings there (`<name>.json`) across runs, as
a real device keeps them across restarts: loaded before it starts, written when they change.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict, dataclass
import json
from pathlib import Path
import signal
import sys
from typing import Any

# What a device keeps across restarts (its flash): settings, MQTT settings, meter settings.
KEPT = ("settings", "mqtt_settings", "meter_settings")
SAVE_EVERY = 2.0  # seconds between two checks for changed settings


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
    summary: str = ""  # what the stack prints about it
    reachable_hosts: tuple[str, ...] = ()  # brokers it reaches besides loopback

    @property
    def url(self) -> str:
        """Base URL of the simulated device."""
        return f"http://127.0.0.1:{self.port}"


def encode(specs: list[DeviceSpec]) -> str:
    """Return the command-line form of `specs`."""
    return json.dumps([asdict(s) for s in specs])


def kept(state: Any) -> dict[str, Any]:
    """Return the settings a device keeps across restarts."""
    return {key: getattr(state, key) for key in KEPT}


def load_kept(state: Any, path: Path) -> bool:
    """Give a device (not started yet) the settings kept in `path`; False when there are none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    for key in KEPT:
        if isinstance(data.get(key), dict):
            setattr(state, key, data[key])
    return True


def save_kept(state: Any, path: Path, last: str | None = None) -> str:
    """Write the device's kept settings to `path` when they differ from `last`; return them."""
    text = json.dumps(kept(state), indent=2, sort_keys=True)
    if text != last:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    return text


async def _keep(sims: list[tuple[Any, Path]], stop: asyncio.Event) -> None:
    """Write each device's settings when they changed, until `stop`, and once more then."""
    last: dict[Path, str] = {}
    while True:
        for sim, path in sims:
            last[path] = save_kept(sim.state, path, last.get(path))
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAVE_EVERY)


async def _run(specs: list[DeviceSpec], state_dir: Path | None) -> None:
    from simulator import Simulator, SimulatorConfig  # noqa: PLC0415

    sims = []
    kept_at: list[tuple[Any, Path]] = []
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
                    reachable_hosts=tuple(spec.reachable_hosts),
                )
            )
            if state_dir is not None:
                path = state_dir / f"{spec.name}.json"
                if load_kept(sim.state, path):
                    print(f"{spec.name}: settings kept from the last run ({path})", flush=True)
                kept_at.append((sim, path))
            await sim.start()
            sims.append(sim)
            print(f"READY {spec.name} {sim.url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await _keep(kept_at, stop)
    finally:
        for sim in reversed(sims):
            await sim.stop()


def main() -> None:
    """Start the devices given as JSON in the first argument."""
    specs = [DeviceSpec(**item) for item in json.loads(sys.argv[1])]
    state_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    asyncio.run(_run(specs, state_dir))


if __name__ == "__main__":
    main()
