"""Command line of scripts/develop: run the development stack until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import shutil
import signal
import sys
import time

from .haconfig import DEV_PASSWORD, DEV_USER, ROOT
from .stack import MQTT_TOPIC, DevStack, StackPorts

_DESCRIPTION = """\
Run Home Assistant with this integration, four simulated whatwatt Go devices and an MQTT broker
on this machine. Ctrl-C stops everything. State (the owner account, config entries) is kept in
config/ between runs, the devices' settings in .develop/devices/; --fresh starts from empty
ones."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/develop", description=_DESCRIPTION)
    d = StackPorts()
    p.add_argument("--port", type=int, default=d.ha, help="Home Assistant port (%(default)s)")
    p.add_argument(
        "--bind",
        default="127.0.0.1",
        help="address Home Assistant listens on (%(default)s; 0.0.0.0 for other machines)",
    )
    p.add_argument("--broker-port", type=int, default=d.broker, help="MQTT port (%(default)s)")
    p.add_argument(
        "--device-ports",
        default=f"{d.rest},{d.live},{d.mqtt},{d.discovered}",
        help="ports of the REST, live, MQTT and discovered devices (%(default)s)",
    )
    p.add_argument(
        "--broker",
        choices=("auto", "mosquitto", "amqtt"),
        default="auto",
        help="MQTT broker: mosquitto when installed, else the embedded amqtt (%(default)s)",
    )
    p.add_argument("--config", type=Path, default=ROOT / "config", help="HA config folder")
    p.add_argument("--run-dir", type=Path, default=ROOT / ".develop", help="logs and broker files")
    p.add_argument(
        "--fresh", action="store_true", help="delete the config folder and device settings first"
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="start everything, print the start-up times, stop again (smoke test)",
    )
    return p


_LABELS = {
    "rest": "REST polling",
    "live": "Live stream",
    "mqtt": "MQTT",
    "discovered": "Discovered",
}


def _summary(stack: DevStack) -> str:
    took = stack.timings.get("ready", 0.0)
    device_url = stack.device_broker_url or "none: this machine has no network address"
    lines = [
        "",
        f"whatwatt development stack is up ({took:.1f} s)",
        f"  Home Assistant  {stack.ha_url}   login: {DEV_USER} / {DEV_PASSWORD}",
        f"  MQTT broker     127.0.0.1:{stack.ports.broker} ({stack.broker_kind}),"
        " already added to Home Assistant",
        f'    for a device  {device_url}  (the broker address of "configure the device for me")',
        "  Simulated devices (Settings > Devices & services > Add integration > whatwatt Go):",
    ]
    for device in stack.devices:
        where = f"address 127.0.0.1:{device.port}"
        if device.name == "mqtt":
            where = f"topic {MQTT_TOPIC}, address 127.0.0.1:{device.port}"
        lines.append(f"    {_LABELS[device.name]:<13} {where}   {device.summary}")
    lines += [
        f"  Device settings: {stack.run_dir / 'devices'}/ (kept across runs)",
        f"  Logs: {stack.run_dir / 'logs'}/   config: {stack.config_dir}/",
        "Press Ctrl-C to stop everything.",
    ]
    return "\n".join(lines)


async def _main(args: argparse.Namespace) -> int:
    rest, live, mqtt, discovered = (int(x) for x in args.device_ports.split(","))
    ports = StackPorts(
        ha=args.port,
        broker=args.broker_port,
        rest=rest,
        live=live,
        mqtt=mqtt,
        discovered=discovered,
    )
    if args.fresh:
        for folder in (args.config, args.run_dir / "devices"):
            if folder.exists():
                shutil.rmtree(folder)
    stack = DevStack(
        config_dir=args.config.resolve(),
        run_dir=args.run_dir.resolve(),
        ports=ports,
        bind=args.bind,
        broker=args.broker,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    t0 = time.monotonic()
    starting = asyncio.create_task(stack.start())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()  # raises a start-up failure
            print(_summary(stack), flush=True)
            if args.check:
                timings = " ".join(f"{k}={v:.1f}s" for k, v in stack.timings.items())
                print(f"check: {timings}", flush=True)
            else:
                await stopping
        else:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
    except Exception as err:  # noqa: BLE001 - report, then stop what was started
        print(f"scripts/develop: {err}", file=sys.stderr, flush=True)
        return 1
    finally:
        stopping.cancel()
        print("stopping ...", flush=True)
        await stack.stop()
        print(f"stopped (ran {time.monotonic() - t0:.0f} s)", flush=True)
    return 0


def main() -> None:
    """Entry point of `python -m scripts._develop`."""
    sys.exit(asyncio.run(_main(_parser().parse_args())))


if __name__ == "__main__":
    main()
