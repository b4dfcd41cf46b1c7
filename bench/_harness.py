"""Shared plumbing of the benchmarks: a private mosquitto, a Home Assistant, MQTT, statistics.

Home Assistant is the one of ``pytest_homeassistant_custom_component.common`` (its
``async_test_home_assistant``) used *outside* pytest: no pytest plugin is loaded, so time is not
patched, the loop is not in debug mode and sockets are not guarded; the benches only ever
connect to 127.0.0.1. Custom integrations are enabled, the YAML configuration is empty, storage
goes to a temporary config folder.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager, suppress
import gc
import logging
import math
import os
from pathlib import Path
import pwd
import statistics
import subprocess
import tempfile
import time
from typing import TYPE_CHECKING
from unittest.mock import patch

from bench import _code  # isort: skip  # before the integration and the simulator
from homeassistant import loader
from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import callback
from homeassistant.helpers import frame
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from simulator.mqtt import CONNACK, connect_packet, publish_packet, read_packet
from tests.plugins.mosquitto import find_mosquitto, free_port, port_open

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Sequence

    from homeassistant.core import HomeAssistant

HOST = "127.0.0.1"


def mosquitto_binary() -> str:
    """Return the mosquitto binary (exit with a hint when it is missing)."""
    found = find_mosquitto()
    if found is None:
        raise SystemExit("mosquitto is not installed (apt-get install mosquitto)")
    return found


class Broker:
    """A private mosquitto on a free port of 127.0.0.1 (no persistence, unbounded queues)."""

    def __init__(self, workdir: Path) -> None:
        """Prepare; ``start()`` runs it."""
        self.binary = mosquitto_binary()
        self.port = free_port()
        self.url = f"mqtt://{HOST}:{self.port}"
        self.workdir = workdir
        self.log = workdir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start mosquitto and wait (bounded) until it accepts connections."""
        config = self.workdir / "mosquitto.conf"
        user = pwd.getpwuid(os.geteuid()).pw_name
        config.write_text(
            f"user {user}\nallow_anonymous true\npersistence false\n"
            # QoS 0 bursts to one online client must never be dropped by the broker
            "max_queued_messages 0\nmax_queued_bytes 0\n"
            f"listener {self.port} {HOST}\n",
            encoding="utf-8",
        )
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [self.binary, "-c", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if self._process.poll() is not None:
                raise SystemExit(f"mosquitto exited: {self.log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                raise SystemExit("mosquitto did not open its port within 10 s")
            time.sleep(0.02)

    def cpu_seconds(self) -> float | None:
        """Return the broker's CPU time so far (user + system, from /proc), or None."""
        if self._process is None:
            return None
        return proc_cpu_seconds(self._process.pid)

    def stop(self) -> None:
        """Stop the broker (terminate, then kill if it lingers)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def proc_cpu_seconds(pid: int) -> float | None:
    """Return user + system CPU seconds of a process (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@asynccontextmanager
async def home_assistant() -> AsyncIterator[HomeAssistant]:
    """Run a Home Assistant with custom integrations enabled, in a temporary config folder."""
    asyncio.get_running_loop().set_debug(False)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # "custom integration ... not tested by Home Assistant", "zlib_ng and isal are not available"
    for name in ("homeassistant.loader", "aiohttp_fast_zlib"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with (
        tempfile.TemporaryDirectory(prefix="whatwatt-bench-") as config_dir,
        # The YAML configuration Home Assistant's MQTT set-up reads: empty.
        patch("homeassistant.config.load_yaml_config_file", return_value={}),
    ):
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            frame.async_setup(hass)
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # enable custom_components/
            try:
                yield hass
            finally:
                # unload first (whatwatt before MQTT), like Home Assistant's own test teardown
                for domain_first in (True, False):
                    for entry in hass.config_entries.async_entries():
                        if entry.state is ConfigEntryState.LOADED and (
                            (entry.domain != "mqtt") is domain_first
                        ):
                            with suppress(Exception):
                                await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_stop(force=True)


async def setup_mqtt(hass: HomeAssistant, port: int, limit: float = 20.0) -> MockConfigEntry:
    """Set up Home Assistant's real MQTT integration on the broker; wait until connected."""
    entry = MockConfigEntry(
        domain="mqtt",
        data={"broker": HOST, "port": port},
        options={mqtt.CONF_BIRTH_MESSAGE: {}},
        version=mqtt.CONFIG_ENTRY_VERSION,
        minor_version=mqtt.CONFIG_ENTRY_MINOR_VERSION,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    connected = asyncio.Event()

    @callback
    def _status(state: bool) -> None:
        if state:
            connected.set()

    unsubscribe = mqtt.async_subscribe_connection_status(hass, _status)
    try:
        if not mqtt.is_connected(hass):
            async with asyncio.timeout(limit):
                await connected.wait()
    finally:
        unsubscribe()
    return entry


class RawPublisher:
    """A publish-only MQTT 3.1.1 client on raw asyncio streams (QoS 0), the simulator's codec."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Wrap connected streams; use ``connect()``."""
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, port: int, client_id: str) -> RawPublisher:
        """Connect to the broker and wait for its CONNACK."""
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(connect_packet(client_id, username=None, password=None, keepalive=600))
        await writer.drain()
        first, body = await read_packet(reader)
        if first & 0xF0 != CONNACK or body[1] != 0:
            raise SystemExit(f"broker refused the bench publisher: {body!r}")
        return cls(reader, writer)

    def write(self, topic: str, payload: bytes) -> None:
        """Queue one QoS 0 message (``drain()`` sends)."""
        self._writer.write(publish_packet(topic, payload))

    async def drain(self) -> None:
        """Wait until the queued messages are handed to the socket."""
        await self._writer.drain()

    async def publish(self, topic: str, payload: bytes) -> None:
        """Send one QoS 0 message."""
        self.write(topic, payload)
        await self.drain()

    async def close(self) -> None:
        """Close the connection."""
        self._writer.close()
        with suppress(OSError):
            await self._writer.wait_closed()


class LagProbe:
    """A task that sleeps 50 ms again and again and records how late it wakes up.

    It also times the garbage collector (``gc.callbacks``): a long pause is often a full
    collection.
    """

    def __init__(self, period: float = 0.05) -> None:
        """Record nothing until ``start()``."""
        self.period = period
        self.samples: list[float] = []
        self.worst_at = 0.0  # time.monotonic() of the largest sample so far
        self.gc_pauses: list[tuple[int, float]] = []  # (generation, seconds)
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start sampling."""
        gc.callbacks.append(self._gc)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="bench lag probe")

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses.append((info["generation"], time.perf_counter() - self._gc_started))

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.period)
            lag = time.perf_counter() - started - self.period
            if not self.samples or lag > max(self.samples):
                self.worst_at = time.monotonic()
            self.samples.append(lag)

    def take(self) -> list[float]:
        """Return the samples so far and start a new list."""
        samples, self.samples = self.samples, []
        return samples

    def take_gc(self) -> list[tuple[int, float]]:
        """Return the garbage collections timed since the last call."""
        pauses, self.gc_pauses = self.gc_pauses, []
        return pauses

    async def stop(self) -> None:
        """Stop sampling."""
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the ``fraction`` quantile (nearest rank) of ``values`` (NaN when empty)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def spread(values: Iterable[float]) -> tuple[float, float, float]:
    """Return (median, min, max) of the finite values (NaNs when none)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, math.nan, math.nan
    return statistics.median(finite), min(finite), max(finite)


def fmt_spread(values: Iterable[float], digits: int = 1, suffix: str = "") -> str:
    """Format ``median (min-max)``."""
    median, low, high = spread(values)
    return f"{median:.{digits}f}{suffix} ({low:.{digits}f}-{high:.{digits}f})"


def describe_code() -> str:
    """Return the checkout whose integration runs, and its git revision when it is the repo."""
    import custom_components.whatwatt as integration  # noqa: PLC0415 - after _code

    where = Path(integration.__file__).resolve().parents[2]
    revision = ""
    if where == _code.ROOT:
        with suppress(OSError, subprocess.SubprocessError):
            head = subprocess.run(
                ["git", "-C", str(where), "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            dirty = subprocess.run(
                [
                    *("git", "--no-optional-locks", "-C", str(where)),
                    *("diff", "--quiet", "HEAD", "--", "custom_components"),
                ],
                capture_output=True,
                check=False,
            ).returncode
            revision = f" (HEAD {head}{', custom_components modified' if dirty else ''})"
    return f"{where}{revision}"
