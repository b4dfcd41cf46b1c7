"""Pick and start an MQTT broker: Debian's mosquitto, else embedded amqtt.

It listens on 127.0.0.1 (Home Assistant) and on this machine's network address, if it has one:
the address a whatwatt Go uses, since a device cannot reach a broker at a loopback address.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
import shutil
import socket
import sys

from .procs import Child, Supervisor, wait_for_port


def mosquitto_path() -> str | None:
    """Path of Debian's mosquitto binary, or None when it is not installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    sbin = Path("/usr/sbin/mosquitto")
    return str(sbin) if sbin.exists() else None


def network_address() -> str | None:
    """Return this machine's address on its network (the default route's), or None.

    Found by connecting a UDP socket, which sends nothing, towards a documentation address.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    parsed = ipaddress.ip_address(address)
    return None if parsed.is_loopback or parsed.is_unspecified else address


def mosquitto_conf(port: int, hosts: list[str]) -> str:
    """Return a mosquitto configuration: one listener per address, anonymous clients."""
    listeners = "".join(f"listener {port} {host}\n" for host in hosts)
    return f"{listeners}allow_anonymous true\npersistence false\nlog_dest stdout\n"


async def start_broker(
    sup: Supervisor,
    port: int,
    work_dir: Path,
    kind: str = "auto",
    hosts: list[str] | None = None,
) -> tuple[Child, str]:
    """Start a broker on `hosts` (127.0.0.1 by default), port `port`; returns (child, kind).

    Anonymous clients are allowed. `kind` is "mosquitto", "amqtt" or "auto" (mosquitto when
    installed, else amqtt).
    """
    hosts = hosts or ["127.0.0.1"]
    work_dir.mkdir(parents=True, exist_ok=True)
    binary = mosquitto_path() if kind in ("auto", "mosquitto") else None
    if kind == "mosquitto" and binary is None:
        raise FileNotFoundError("mosquitto is not installed (apt-get install mosquitto)")
    if binary is not None:
        conf = work_dir / "mosquitto.conf"
        conf.write_text(mosquitto_conf(port, hosts), encoding="utf-8")
        child = await sup.start("broker", [binary, "-c", str(conf)])
        kind = "mosquitto"
    else:
        child = await sup.start(
            "broker",
            [
                sys.executable,
                "-m",
                "scripts._develop.amqtt_broker",
                "--port",
                str(port),
                *(arg for host in hosts for arg in ("--host", host)),
            ],
            cwd=Path(__file__).resolve().parents[2],
        )
        kind = "amqtt"
    await wait_for_port(port, limit=30, child=child)
    return child, kind
