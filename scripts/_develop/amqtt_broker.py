"""Run the embedded amqtt broker (used when mosquitto is not installed).

`python -m scripts._develop.amqtt_broker --port N [--host ADDRESS ...]` listens on each address
(127.0.0.1 when none is given) and runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any


def broker_config(port: int, hosts: list[str] | None = None) -> dict[str, Any]:
    """Return amqtt settings: a TCP listener per address, anonymous clients, no $SYS topics."""
    listeners: dict[str, Any] = {
        ("default" if index == 0 else f"listener{index}"): {"type": "tcp", "bind": f"{host}:{port}"}
        for index, host in enumerate(hosts or ["127.0.0.1"])
    }
    return {
        "listeners": listeners,
        "plugins": {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
        },
    }


async def _run(port: int, hosts: list[str]) -> None:
    from amqtt.broker import Broker  # noqa: PLC0415 - only needed in this process

    broker = Broker(broker_config(port, hosts))
    await broker.start()
    print(f"READY mqtt://127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await broker.shutdown()


def main() -> None:
    """Parse `--port` and serve until told to stop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--host", action="append", default=[])
    args = parser.parse_args()
    asyncio.run(_run(args.port, args.host))


if __name__ == "__main__":
    main()
