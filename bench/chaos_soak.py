"""Benchmark C: a chaos soak. Does every entry heal on its own?

Run: ``.venv/bin/python -m bench.chaos_soak [--minutes N] [--seed S]`` (10 minutes of faults,
then up to a few minutes until the last one healed; ``--help``).

One Home Assistant (this process) holds 12 whatwatt entries against simulated devices in three
subprocesses (``bench._sim_worker``) and Home Assistant's real MQTT integration on a private
mosquitto:

- 3 REST entries (three-phase DLMS meters, telegrams every 2, 3, 5 s and the scan interval the
  same, a Digest password);
- 3 MQTT-only and 3 MQTT entries with the device address (telegrams every 2, 3, 5 s, one message
  each, the integration's template on ``whatwatt/<id>``);
- 3 live entries (P1 meters on the FREE licence, an event every 1, 2, 3 s, a Digest password).

Every 20-40 s a seeded fault hits some of them (``bench._chaos_faults``): a device reboot, a
device unreachable for 30-90 s, a broker restart, the live stream refused, a wrong password for a
while (on a REST and on a live entry), an entry reload. Nobody helps: no reauth flow is
completed, nothing is reloaded by hand.

Reported (``bench._chaos_figures`` defines them): the recovery time per transport and fault kind
(p50, max), the entries not recovered within 120 s (must be 0), the readings lost outside faults
(must be 0), the tracebacks logged (must be 0), the log lines above info, the asyncio tasks and
the memory (RSS) at the start and at the end. The exit status is 1 when one of the musts fails.
It is a benchmark: nothing here is a timed test.
"""

from __future__ import annotations

from bench import _code  # isort: skip  # noqa: F401 - before the integration and the simulator

import argparse
import asyncio
from collections import Counter
import gc
import logging
from pathlib import Path
import re
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import Event, callback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bench import _chaos_figures as figures
from bench._chaos_faults import REMOVED, Chaos, ChaosWorker, Fault, SoakMeter
from bench._harness import Broker, describe_code, home_assistant, setup_mqtt
from bench.fifty_meters import PowerWatch, sim_spec

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

DOMAIN: Final = "whatwatt"
PASSWORD: Final = "secret"
# transport → (worker, telegram intervals, Digest password)
PLAN: Final = {
    "rest": ("rest", (2.0, 3.0, 5.0), True),
    "mqtt": ("mqtt", (2.0, 3.0, 5.0), False),
    "mqtt+host": ("mqtt", (2.0, 3.0, 5.0), False),
    "live": ("live", (1.0, 2.0, 3.0), True),
}
_TITLE: Final = re.compile(r"whatwatt Go \w{6} (REST|MQTT only|MQTT \+ address|live)")
_DEVICE_ID: Final = re.compile(r"\bCAFE\w{8}\b")
_ADDRESS: Final = re.compile(r"127\.0\.0\.1:\d+")
AIOHTTP_WORDS: Final = (
    "aiohttp",
    "ClientPayloadError",
    "TransferEncodingError",
    "Response payload",
    "Cannot connect to host",
    "ssl:default",
)


def plan_meters() -> list[SoakMeter]:
    """Return the 12 devices: ids, transports, intervals, passwords."""
    meters = []
    for number, (transport, (worker, intervals, password)) in enumerate(PLAN.items(), start=1):
        meters.extend(
            SoakMeter(
                # the last 6 digits name the device's MQTT client: one per device
                device_id=f"CAFE{number:02d}{number:02d}{index + 1:04X}",
                kind=worker,
                interval=interval,
                password=PASSWORD if password else None,
                transport=transport,
            )
            for index, interval in enumerate(intervals)
        )
    return meters


def make_entry(meter: SoakMeter) -> MockConfigEntry:
    """Return the whatwatt entry of a device (the entry data contract)."""
    data: dict[str, Any] = {"transport": meter.kind}
    if meter.kind == "mqtt":
        data["topic"] = f"whatwatt/{meter.device_id}"
    if meter.transport != "mqtt":
        data["host"] = f"127.0.0.1:{meter.port}"
    if meter.password:
        data["password"] = meter.password
    options = {"scan_interval": int(meter.interval)} if meter.kind == "rest" else {}
    title = f"whatwatt Go {meter.device_id[-6:]} {figures.TRANSPORT_NAMES[meter.transport]}"
    return MockConfigEntry(
        domain=DOMAIN, title=title, unique_id=meter.device_id, data=data, options=options
    )


class SoakWatch(PowerWatch):
    """``PowerWatch`` that also notes when a power sensor's state goes (its entry unloads)."""

    @callback
    def _changed(self, event: Event[Any]) -> None:
        if event.data["new_state"] is None:
            meter = self._meter_of(event.data["entity_id"])
            if meter is not None:
                meter.states.append((time.monotonic(), REMOVED))
            return
        super()._changed(event)


class LogTally(logging.Handler):
    """Count the log lines above info by level and logger; keep those with a traceback."""

    def __init__(self) -> None:
        """Count from now on (attach to the root logger)."""
        super().__init__(logging.WARNING)
        self.lines: Counter[tuple[str, str]] = Counter()
        self.tracebacks: list[str] = []
        self.aiohttp: list[str] = []
        self.ours: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        """Count one record."""
        message = record.getMessage()
        self.lines[record.levelname, record.name] += 1
        if record.exc_info is not None and record.exc_info[0] is not None:
            self.tracebacks.append(f"{record.name}: {message}")
        if any(word in message for word in AIOHTTP_WORDS):
            self.aiohttp.append(message)
        if record.name.startswith("custom_components.whatwatt"):
            self.ours[f"{record.levelname} {_shape(message)}"] += 1


def _shape(message: str) -> str:
    """Return a log message without the entry's name and id (lines of all entries add up)."""
    message = _TITLE.sub("<entry>", message)
    message = _ADDRESS.sub("<address>", message)
    return _DEVICE_ID.sub("<id>", message)[:120]


def snapshot() -> tuple[int, float]:
    """Return the asyncio tasks of this loop and the process's resident memory (MB)."""
    gc.collect()
    rss = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return len(asyncio.all_tasks()), rss


def _print_fault(fault: Fault) -> None:
    healed = ", ".join(f"{m.device_id} {_after(fault, m)}" for m in fault.targets[:3]) + (
        f" (+{len(fault.targets) - 3})" if len(fault.targets) > 3 else ""
    )
    error = f"; ERROR {fault.error}" if fault.error else ""
    print(
        f"  #{fault.number:<3} {fault.kind:<22} {fault.seconds:5.1f} s  recovered: {healed}{error}",
        flush=True,
    )


def _after(fault: Fault, meter: SoakMeter) -> str:
    seconds = fault.recovery(meter)
    return "never" if seconds is None else f"{seconds:.1f} s"


async def run(args: argparse.Namespace) -> int:
    """Run the soak; return the exit status."""
    meters = plan_meters()
    by_id = {m.device_id: m for m in meters}
    with tempfile.TemporaryDirectory(prefix="whatwatt-chaos-") as workdir:
        broker = Broker(Path(workdir))
        broker.start()
        workers: list[ChaosWorker] = []
        try:
            for name in ("rest", "mqtt", "live"):
                group = [m for m in meters if m.kind == name]
                specs = [sim_spec(m, broker.url, args.seed * 100 + i) for i, m in enumerate(group)]
                worker = ChaosWorker(name, specs, Path(workdir) / f"sim-{name}.log")
                workers.append(worker)
                for meter in group:
                    meter.worker = worker
            for worker in workers:
                for item in (await worker.ask(None))["ready"]:
                    by_id[item["device_id"]].port = item["port"]
            async with home_assistant() as hass:
                return await _soak(hass, broker, workers, meters, args)
        finally:
            for worker in workers:
                worker.stop()
                await worker.close_reader()
                worker.print_log()
            broker.stop()


async def _soak(
    hass: HomeAssistant,
    broker: Broker,
    workers: list[ChaosWorker],
    meters: list[SoakMeter],
    args: argparse.Namespace,
) -> int:
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    print(f"code: {describe_code()}")
    print(
        "12 entries: 3 REST (2/3/5 s, Digest), 3 MQTT only and 3 MQTT + address (2/3/5 s), "
        f"3 live (1/2/3 s, Digest); seed {args.seed}; a fault every 20-40 s for "
        f"{args.minutes:g} min"
    )
    await setup_mqtt(hass, broker.port)
    watch = SoakWatch(hass, {m.device_id: m for m in meters})
    for meter in meters:
        meter.entry = make_entry(meter)
        meter.entry.add_to_hass(hass)
    await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    async with asyncio.timeout(60):
        await watch.all_shown.wait()
    await asyncio.sleep(5.0)
    start = snapshot()
    since = time.monotonic()
    print("\nall 12 entries show readings; faults (recovery: first reading after the end):")
    faults = await Chaos(hass, meters, broker, args.seed).run(args.minutes * 60, _print_fault)
    await asyncio.sleep(5.0)
    end = snapshot()
    for worker in workers:
        await worker.ask("pause")
    await asyncio.sleep(max(m.interval for m in meters) + 3.0)
    until = time.monotonic()
    sent: dict[str, dict[str, Any]] = {}
    for worker in workers:
        sent.update((await worker.ask("report"))["sims"])
    watch.close()
    logging.getLogger().removeHandler(tally)
    return _report(meters, faults, sent, (since, until), tally, (start, end))


def _report(
    meters: list[SoakMeter],
    faults: list[Fault],
    sent: dict[str, dict[str, Any]],
    span: tuple[float, float],
    tally: LogTally,
    snapshots: tuple[tuple[int, float], tuple[int, float]],
) -> int:
    kinds = Counter(fault.kind for fault in faults)
    print(f"\n{len(faults)} faults: " + ", ".join(f"{k} {n}" for k, n in kinds.items()))
    failed = [f"#{f.number} {f.kind}: {f.error}" for f in faults if f.error]
    print("\nrecovery, seconds from the end of the fault: p50 / max (cases)\n")
    for line in figures.recovery_table(faults):
        print(line)
    late = figures.not_recovered(faults)
    checked, lost = 0, []
    for meter in meters:
        count, missing = figures.lost_readings(meter, sent[meter.device_id]["sent"], faults, span)
        checked += count
        lost.extend(missing)
    (tasks0, rss0), (tasks1, rss1) = snapshots
    print(f"\nentries not recovered within 120 s: {len(late)}")
    print(f"readings lost outside faults: {len(lost)} (of {checked} checked)")
    print(f"tracebacks: {len(tally.tracebacks)}")
    print(f"log lines above info with aiohttp's words: {len(tally.aiohttp)}")
    print(f"asyncio tasks: {tasks0} at the start, {tasks1} at the end")
    print(f"memory (RSS): {rss0:.0f} MB at the start, {rss1:.0f} MB at the end")
    print("\nlog lines above info (level, logger: count):")
    for (level, name), count in sorted(tally.lines.items()):
        print(f"  {level:<8} {name}: {count}")
    print("the integration's, by message:")
    for message, count in tally.ours.most_common():
        print(f"  {count:>3}  {message}")
    problems = late + lost[:20] + tally.tracebacks[:20] + failed
    if problems:
        print(f"\nPROBLEMS ({len(problems)}, first 40):")
        for text in problems[:40]:
            print(f"  {text}")
    return 1 if late or lost or tally.tracebacks else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command-line options."""
    p = argparse.ArgumentParser(prog="python -m bench.chaos_soak", description=__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--minutes", type=float, default=10.0, help="minutes of faults (default 10)")
    p.add_argument("--seed", type=int, default=1, help="seed of the faults (default 1)")
    p.add_argument("--code", help="checkout whose custom_components/ and simulator/ to soak")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run from the command line."""
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
