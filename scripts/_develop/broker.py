"""Pick and start an MQTT broker on 127.0.0.1: Debian's mosquitto, else embedded amqtt."""

from __future__ import annotations

from pathlib import Path
import shutil
import sys

from .procs import Child, Supervisor, wait_for_port


def mosquitto_path() -> str | None:
    """Path of Debian's mosquitto binary, or None when it is not installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    sbin = Path("/usr/sbin/mosquitto")
    return str(sbin) if sbin.exists() else None


async def start_broker(
    sup: Supervisor, port: int, work_dir: Path, kind: str = "auto"
) -> tuple[Child, str]:
    """Start a broker on 127.0.0.1:`port` (anonymous clients allowed); returns (child, kind).

    `kind` is "mosquitto", "amqtt" or "auto" (mosquitto when installed, else amqtt).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    binary = mosquitto_path() if kind in ("auto", "mosquitto") else None
    if kind == "mosquitto" and binary is None:
        raise FileNotFoundError("mosquitto is not installed (apt-get install mosquitto)")
    if binary is not None:
        conf = work_dir / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "log_dest stdout\n",
            encoding="utf-8",
        )
        child = await sup.start("broker", [binary, "-c", str(conf)])
        kind = "mosquitto"
    else:
        child = await sup.start(
            "broker",
            [sys.executable, "-m", "scripts._develop.amqtt_broker", "--port", str(port)],
            cwd=Path(__file__).resolve().parents[2],
        )
        kind = "amqtt"
    await wait_for_port(port, limit=30, child=child)
    return child, kind
