"""Run the embedded amqtt broker on 127.0.0.1 (used when mosquitto is not installed).

`python -m scripts._develop.amqtt_broker --port N` runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any


def broker_config(port: int) -> dict[str, Any]:
    """Return amqtt settings: one TCP listener on loopback, anonymous clients, no $SYS topics."""
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
        },
    }


async def _run(port: int) -> None:
    from amqtt.broker import Broker  # noqa: PLC0415 - only needed in this process

    broker = Broker(broker_config(port))
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
    asyncio.run(_run(parser.parse_args().port))


if __name__ == "__main__":
    main()
