"""``python -m simulator``: run one simulated whatwatt Go until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .config import PROFILES, SimulatorConfig
from .server import Simulator


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    p = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    p.add_argument("--auth", choices=("none", "basic", "digest"), default="digest")
    p.add_argument("--password", default=None, help="sets system.password and protection")
    p.add_argument("--license", choices=("free", "plus"), default="plus")
    p.add_argument("--profile", choices=PROFILES, default="p1-single")
    p.add_argument("--firmware", default="1.10.3")
    p.add_argument("--device-id", default="A1B2C3D4E5F6")
    p.add_argument("--host-name", default=None)
    p.add_argument("--mqtt-url", default=None)
    p.add_argument("--mqtt-topic", default=None)
    p.add_argument("--report-interval", type=int, default=30)
    p.add_argument("--telegram-interval", type=float, default=1.0)
    p.add_argument("--nonce-lifetime", type=float, default=300.0)
    p.add_argument("--reboot-downtime", type=float, default=2.0)
    p.add_argument("--ethernet-up", action="store_true")
    p.add_argument(
        "--timezone",
        default="Europe/Zurich",
        help="local zone: IANA name, UTC or an offset such as +02:00 (fault: timezone)",
    )
    p.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        help="seconds the device clock is ahead, negative: behind (fault: clock_offset)",
    )
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--sd-card", action="store_true", help="mount an SD card (logging stays off)")
    return p


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """Return the SimulatorConfig for parsed arguments."""
    return SimulatorConfig(
        host=args.host,
        port=args.port,
        auth=args.auth,
        password=args.password,
        license=args.license,
        profile=args.profile,
        firmware=args.firmware,
        device_id=args.device_id,
        host_name=args.host_name,
        mqtt_url=args.mqtt_url,
        mqtt_topic=args.mqtt_topic,
        report_interval=args.report_interval,
        telegram_interval=args.telegram_interval,
        nonce_lifetime=args.nonce_lifetime,
        reboot_downtime=args.reboot_downtime,
        ethernet_up=args.ethernet_up,
        timezone=args.timezone,
        clock_offset=args.clock_offset,
        seed=args.seed,
        sd_card=args.sd_card,
    )


async def run(config: SimulatorConfig) -> None:
    """Start the device, print ``READY <url>`` and serve until a stop signal."""
    sim = Simulator(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await sim.start()
    try:
        print(f"READY {sim.url}", flush=True)
        await stop.wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the simulator from the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(run(config_from_args(args)))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
