"""Benchmark B: fifty meters in one Home Assistant.

Run: ``.venv/bin/python -m bench.fifty_meters`` (5 minutes; ``--minutes N``; ``--quick`` for
about 30 s with 10 meters; ``--help``).

One Home Assistant (this process) holds 50 whatwatt entries: 20 REST, 20 MQTT-only (through one
private mosquitto and Home Assistant's real MQTT integration, the integration's own template on
``whatwatt/<id>``) and 10 live-stream entries. Their 50 simulated devices run in three
subprocesses (``bench._sim_worker``, one per transport), so this process's CPU time is Home
Assistant's and the integration's alone. Each device decodes a meter telegram on its own
schedule, 1-10 s apart:

- REST: three-phase DLMS meters, telegrams every 2, 5 or 10 s and the entry's scan interval the
  same (the integration never polls faster than the meter reports); every 4th device has a
  Digest password;
- MQTT: three-phase DLMS meters publishing every telegram, every 1, 2, 5 or 10 s;
- live: single-phase P1 meters on the FREE licence, an event every 1 or 2 s.

Reported: the set-up time of all entries (``async_setup_component`` of the integration with all
50 entries added, as at Home Assistant's start) and until every power sensor shows a value; the
CPU time of this process per reading during the measuring window; readings lost; the event-loop
lag (a task that sleeps 50 ms and records how late it wakes up).

A *reading* is what a device delivered to Home Assistant: an MQTT message it published, a
live-stream event it sent while Home Assistant's stream was open, or (REST) a report that at
least one ``GET /api/v1/report`` was answered with. *Readings lost* compares, per device, the
sequence of the readings' active import power (``power_import``, in W) with the sequence of
numeric states the entry's ``power_import`` sensor took: both are taken from the first state the
sensor showed (aligned with the reading it came from) to the end, after the devices stop decoding
telegrams and Home Assistant had time to poll and read what was sent. Consecutive equal values
count once (a sensor does not change state for an unchanged value). Lost = readings in that
sequence that never appeared as a state, in order (difflib's longest matching subsequence);
unexpected = states no reading explains. Both must be 0. Readings sent before the entry could
receive them (MQTT before the subscription) are not counted; REST telegrams no poll read are
shown separately ("not polled"), they are the sampling of polling, not a loss.
"""

from __future__ import annotations

from bench import _code  # isort: skip  # before the integration and the simulator

import argparse
import asyncio
from dataclasses import dataclass, field
import difflib
import json
import math
from pathlib import Path
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bench._harness import (
    Broker,
    LagProbe,
    describe_code,
    home_assistant,
    percentile,
    proc_cpu_seconds,
    setup_mqtt,
)
from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE

if TYPE_CHECKING:
    from collections.abc import Sequence

DOMAIN = "whatwatt"
REST_INTERVALS = (2, 5, 10)
MQTT_INTERVALS = (1, 2, 5, 10)
LIVE_INTERVALS = (1, 2)
KIND_CODE = {"rest": "01", "mqtt": "02", "live": "03"}


@dataclass
class Meter:
    """One device as Home Assistant sees it."""

    device_id: str
    kind: str
    interval: float
    password: str | None = None
    port: int = 0
    entry: MockConfigEntry | None = None
    states: list[tuple[float, str]] = field(default_factory=list)  # power_import states
    first_value_at: float | None = None


class Worker:
    """One simulator subprocess."""

    def __init__(self, name: str, sims: list[dict[str, Any]], log: Path) -> None:
        """Start ``python -m bench._sim_worker`` with its devices."""
        self.name = name
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench._sim_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=_code.child_env(),
            cwd=str(_code.ROOT),
        )
        self._send({"sims": sims})

    def _send(self, message: Any) -> None:
        assert self.process.stdin is not None
        text = message if isinstance(message, str) else json.dumps(message)
        self.process.stdin.write(text.encode() + b"\n")
        self.process.stdin.flush()

    async def ask(self, command: str | None, limit: float = 60.0) -> dict[str, Any]:
        """Send a command (None: only read) and wait for the next answer line."""
        if command is not None:
            self._send(command)
        assert self.process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), limit)
        if not line:
            raise SystemExit(f"simulator worker {self.name} ended; see {self._log.name}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def cpu_seconds(self) -> float | None:
        """Return the worker's CPU time so far."""
        return proc_cpu_seconds(self.process.pid)

    def print_log(self) -> None:
        """Print the end of the worker's stderr, when it wrote anything."""
        text = Path(self._log.name).read_text(errors="replace").strip()
        if text:
            print(f"simulator worker {self.name} wrote (last 10 lines):")
            for line in text.splitlines()[-10:]:
                print(f"  {line}")

    def stop(self) -> None:
        """Ask the worker to stop; kill it when it does not."""
        if self.process.poll() is None:
            try:
                self._send("stop")
                self.process.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(5)
        self._log.close()


def plan_meters(rest: int, mqtt: int, live: int) -> list[Meter]:
    """Return the devices: ids, transports, intervals."""
    meters: list[Meter] = []
    for kind, count, intervals in (
        ("rest", rest, REST_INTERVALS),
        ("mqtt", mqtt, MQTT_INTERVALS),
        ("live", live, LIVE_INTERVALS),
    ):
        meters.extend(
            Meter(
                device_id=f"BE{KIND_CODE[kind]}{index + 1:08X}",
                kind=kind,
                interval=float(intervals[index % len(intervals)]),
                password="secret" if kind == "rest" and index % 4 == 3 else None,
            )
            for index in range(count)
        )
    return meters


def sim_spec(meter: Meter, broker_url: str, seed: int) -> dict[str, Any]:
    """Return the worker's description of a device."""
    return {
        "device_id": meter.device_id,
        "kind": meter.kind,
        "interval": meter.interval,
        "profile": "p1-single" if meter.kind == "live" else "dlms-three",
        "license": "free" if meter.kind == "live" else "plus",
        "password": meter.password,
        "mqtt_url": broker_url,
        "mqtt_template": INTEGRATION_TEMPLATE,
        "net_kw": 3.0 + (seed % 7) * 0.5,  # keep the import power away from 0 (it would stick)
        "seed": seed,
    }


def make_entry(meter: Meter) -> MockConfigEntry:
    """Return the whatwatt entry for a device (the entry data contract)."""
    title = f"whatwatt Go {meter.device_id[-6:]}"
    if meter.kind == "mqtt":
        data: dict[str, Any] = {"transport": "mqtt", "topic": f"whatwatt/{meter.device_id}"}
        return MockConfigEntry(domain=DOMAIN, title=title, unique_id=meter.device_id, data=data)
    data = {"transport": meter.kind, "host": f"127.0.0.1:{meter.port}"}
    if meter.password:
        data["password"] = meter.password
    options = {"scan_interval": int(meter.interval)} if meter.kind == "rest" else {}
    return MockConfigEntry(
        domain=DOMAIN, title=title, unique_id=meter.device_id, data=data, options=options
    )


class PowerWatch:
    """Record every state of every entry's ``power_import`` sensor (one bus listener)."""

    def __init__(self, hass: HomeAssistant, meters: dict[str, Meter]) -> None:
        """Listen for state changes."""
        self.hass = hass
        self.meters = meters
        self._owner: dict[str, Meter | None] = {}
        self.missing = len(meters)
        self.all_shown = asyncio.Event()
        self._unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed)

    def _meter_of(self, entity_id: str) -> Meter | None:
        if entity_id in self._owner:
            return self._owner[entity_id]
        meter = None
        if entity_id.startswith("sensor."):
            entry = er.async_get(self.hass).async_get(entity_id)
            if entry is not None and entry.platform == DOMAIN:
                device_id, _, key = entry.unique_id.partition("_")
                if key == "power_import":
                    meter = self.meters.get(device_id)
        self._owner[entity_id] = meter
        return meter

    @callback
    def _changed(self, event: Event[Any]) -> None:
        new = event.data["new_state"]
        if new is None:
            return
        meter = self._meter_of(event.data["entity_id"])
        if meter is None:
            return
        now = time.monotonic()
        meter.states.append((now, new.state))
        if meter.first_value_at is None and _watts(new.state) is not None:
            meter.first_value_at = now
            self.missing -= 1
            if self.missing == 0:
                self.all_shown.set()

    def close(self) -> None:
        """Stop listening."""
        self._unsub()


def _watts(state: str) -> int | None:
    try:
        value = float(state)
    except ValueError:
        return None
    return round(value) if math.isfinite(value) else None


def _collapse(values: Sequence[int]) -> list[int]:
    out: list[int] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out


ALIGN_TOLERANCE = 0.5  # seconds; the shortest telegram interval is 1 s


@dataclass
class Loss:
    """The readings-lost comparison of one device."""

    sent: int = 0  # readings from the aligned one on
    expected: int = 0  # after merging consecutive equal values
    shown: int = 0  # numeric states (merged likewise)
    lost: int = 0
    unexpected: int = 0
    unavailable: int = 0  # non-numeric states after the first value
    aligned: bool = True


def compare(meter: Meter, sent: list[list[float]]) -> Loss:
    """Compare what a device sent with what its power sensor showed."""
    loss = Loss()
    numeric = [(t, w) for t, s in meter.states if (w := _watts(s)) is not None]
    if not numeric:
        loss.aligned = False
        loss.sent = len(sent)
        loss.lost = len(_collapse([round(p * 1000) for _, _, p in sent]))
        return loss
    first_t, first_w = numeric[0]
    start = None
    # The devices note a reading's time once their send returned (another process): the state
    # it caused may be stamped a little earlier. Half the shortest interval tells them apart.
    for index in range(len(sent) - 1, -1, -1):
        moment, _, power = sent[index]
        if moment <= first_t + ALIGN_TOLERANCE and round(power * 1000) == first_w:
            start = index
            break
    if start is None:
        loss.aligned = False
        start = 0
    readings = sent[start:]
    expected = _collapse([round(p * 1000) for _, _, p in readings])
    shown = _collapse([w for _, w in numeric])
    matcher = difflib.SequenceMatcher(None, expected, shown, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    loss.sent = len(readings)
    loss.expected = len(expected)
    loss.shown = len(shown)
    loss.lost = len(expected) - matched
    loss.unexpected = len(shown) - matched
    after_first = [s for t, s in meter.states if t >= first_t]
    loss.unavailable = sum(1 for s in after_first if _watts(s) is None)
    return loss


def _lag_text(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ms = [s * 1000 for s in samples]
    return (
        f"p50 {percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
        f"max {max(ms):.1f} ms ({len(ms)} samples)"
    )


async def run(args: argparse.Namespace) -> int:
    """Run the bench; return the exit status."""
    meters = plan_meters(args.rest, args.mqtt, args.live)
    by_id = {m.device_id: m for m in meters}
    with tempfile.TemporaryDirectory(prefix="whatwatt-bench-50-") as workdir:
        broker = Broker(Path(workdir))
        broker.start()
        workers: list[Worker] = []
        try:
            for kind in ("rest", "mqtt", "live"):
                group = [m for m in meters if m.kind == kind]
                if group:
                    specs = [sim_spec(m, broker.url, i + 1) for i, m in enumerate(group)]
                    workers.append(Worker(kind, specs, Path(workdir) / f"sim-{kind}.log"))
            for worker in workers:
                for item in (await worker.ask(None))["ready"]:
                    by_id[item["device_id"]].port = item["port"]
            async with home_assistant() as hass:
                return await _bench(hass, broker, workers, meters, args)
        finally:
            for worker in workers:
                worker.stop()
                worker.print_log()
            broker.stop()


async def _bench(
    hass: HomeAssistant,
    broker: Broker,
    workers: list[Worker],
    meters: list[Meter],
    args: argparse.Namespace,
) -> int:
    by_id = {m.device_id: m for m in meters}
    counts = {kind: sum(1 for m in meters if m.kind == kind) for kind in ("rest", "mqtt", "live")}
    print(f"code: {describe_code()}")
    print(
        f"{len(meters)} meters: {counts['rest']} REST (telegram = scan interval "
        f"{'/'.join(map(str, REST_INTERVALS))} s, every 4th with Digest), {counts['mqtt']} MQTT "
        f"(every {'/'.join(map(str, MQTT_INTERVALS))} s), {counts['live']} live "
        f"(every {'/'.join(map(str, LIVE_INTERVALS))} s); simulators in {len(workers)} processes"
    )
    await setup_mqtt(hass, broker.port)
    probe = LagProbe()
    probe.start()
    # Baseline: Home Assistant with MQTT connected, no whatwatt entry yet (the lag probe runs).
    idle = args.idle
    await asyncio.sleep(1.0)
    idle_cpu0 = time.process_time()
    await asyncio.sleep(idle)
    idle_rate = (time.process_time() - idle_cpu0) / idle
    watch = PowerWatch(hass, by_id)
    for meter in meters:
        meter.entry = make_entry(meter)
        meter.entry.add_to_hass(hass)
    await asyncio.sleep(0.2)
    probe.take()

    # -- set-up ---------------------------------------------------------------------------
    wall0, cpu0 = time.perf_counter(), time.process_time()
    setup_mono0 = time.monotonic()
    ok = await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    setup_wall, setup_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    states: dict[str, int] = {}
    for meter in meters:
        assert meter.entry is not None
        states[meter.entry.state.value] = states.get(meter.entry.state.value, 0) + 1
    try:
        async with asyncio.timeout(max(30.0, 3 * max(m.interval for m in meters))):
            await watch.all_shown.wait()
    except TimeoutError:
        pass
    first_all = time.perf_counter() - wall0
    setup_lag = probe.take()
    loaded = sum(
        1 for m in meters if m.entry is not None and m.entry.state is ConfigEntryState.LOADED
    )
    print("\nset-up (async_setup_component with every entry added, as at start-up)")
    print(
        f"  set-up returned after {setup_wall:.2f} s (CPU {setup_cpu:.2f} s); entry states: "
        + ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
    )
    shown = sum(1 for m in meters if m.first_value_at is not None)
    print(
        f"  every power sensor showed a value after {first_all:.2f} s ({shown}/{len(meters)} did)"
        if watch.all_shown.is_set()
        else f"  only {shown}/{len(meters)} power sensors showed a value within {first_all:.0f} s"
    )
    for kind in ("rest", "mqtt", "live"):
        group = [m for m in meters if m.kind == kind]
        firsts = [m.first_value_at for m in group if m.first_value_at is not None]
        if group and len(firsts) == len(group):
            longest = max(m.interval for m in group)
            print(
                f"    {kind}: last first value {max(firsts) - setup_mono0:.2f} s after the start "
                f"(longest telegram interval {longest:.0f} s)"
            )
    print(f"  event-loop lag during set-up: {_lag_text(setup_lag)}")

    # -- steady state --------------------------------------------------------------------
    window = args.minutes * 60.0
    await asyncio.sleep(2.0)  # let the set-up's stragglers finish outside the window
    probe.take()
    probe.take_gc()
    workers_cpu0 = [w.cpu_seconds() for w in workers]
    broker_cpu0 = broker.cpu_seconds()
    t0 = time.monotonic()
    cpu0 = time.process_time()
    print(f"\nmeasuring {window:.0f} s ...", flush=True)
    await asyncio.sleep(window)
    cpu = time.process_time() - cpu0
    t1 = time.monotonic()
    worst_at = probe.worst_at - t0
    steady_lag = probe.take()
    gc_pauses = probe.take_gc()
    broker_cpu1 = broker.cpu_seconds()
    workers_cpu1 = [w.cpu_seconds() for w in workers]

    # -- drain: devices stop, Home Assistant reads what was sent ---------------------------
    for worker in workers:
        await worker.ask("pause")
    # REST reads the last telegrams at its next poll; MQTT and live are in flight for ms.
    await asyncio.sleep(max([m.interval for m in meters if m.kind == "rest"] or [0]) + 2.0)
    sent: dict[str, dict[str, Any]] = {}
    for worker in workers:
        sent.update((await worker.ask("report"))["sims"])
    await hass.async_block_till_done()
    watch.close()
    await probe.stop()
    full = [seconds for generation, seconds in gc_pauses if generation == 2]
    lag_notes = [
        f"largest at {worst_at:.0f} s into the window; garbage collections: {len(gc_pauses)}, "
        f"longest {max((s for _, s in gc_pauses), default=0) * 1000:.1f} ms, of which full "
        f"(generation 2) {len(full)}, longest {max(full, default=0) * 1000:.1f} ms"
    ]
    ok_exit = _report(meters, sent, (t0, t1), cpu, (steady_lag, lag_notes), ok, loaded, idle_rate)
    broker_cpu = (
        broker_cpu1 - broker_cpu0 if broker_cpu0 is not None and broker_cpu1 is not None else None
    )
    others = [
        f"{w.name} simulators {b - a:.2f} s"
        for w, a, b in zip(workers, workers_cpu0, workers_cpu1, strict=True)
        if a is not None and b is not None
    ]
    if broker_cpu is not None:
        others.append(f"mosquitto {broker_cpu:.2f} s")
    print(f"  other processes' CPU in the window: {', '.join(others)}")
    return ok_exit


def _loss_table(
    meters: list[Meter], sent: dict[str, dict[str, Any]], problems: list[str]
) -> tuple[int, int]:
    """Print the readings-lost table; return (lost, unexpected) over all devices."""
    print("\nreadings lost (per transport; definition in the module docstring)")
    print(
        f"  {'transport':<10}{'readings':>10}{'changes':>10}{'shown':>8}{'lost':>6}"
        f"{'unexpected':>12}{'unavailable':>13}{'not aligned':>13}"
    )
    total_lost = total_unexpected = 0
    for kind in ("rest", "mqtt", "live"):
        group = [m for m in meters if m.kind == kind]
        if not group:
            continue
        agg = Loss()
        not_aligned = 0
        for meter in group:
            loss = compare(meter, sent[meter.device_id]["sent"])
            agg.sent += loss.sent
            agg.expected += loss.expected
            agg.shown += loss.shown
            agg.lost += loss.lost
            agg.unexpected += loss.unexpected
            agg.unavailable += loss.unavailable
            not_aligned += not loss.aligned
            if loss.lost or loss.unexpected or not loss.aligned or loss.unavailable:
                problems.append(
                    f"{meter.device_id} ({kind}): {loss.lost} lost, {loss.unexpected} unexpected, "
                    f"{loss.unavailable} unavailable, aligned={loss.aligned}"
                )
        total_lost += agg.lost
        total_unexpected += agg.unexpected
        print(
            f"  {kind:<10}{agg.sent:>10}{agg.expected:>10}{agg.shown:>8}{agg.lost:>6}"
            f"{agg.unexpected:>12}{agg.unavailable:>13}{not_aligned:>13}"
        )
    return total_lost, total_unexpected


def _report(
    meters: list[Meter],
    sent: dict[str, dict[str, Any]],
    span: tuple[float, float],
    cpu: float,
    lag_info: tuple[list[float], list[str]],
    setup_ok: bool,
    loaded: int,
    idle_rate: float,
) -> int:
    t0, t1 = span
    lag, lag_notes = lag_info
    window = t1 - t0
    in_window = {
        kind: sum(
            1
            for m in meters
            if m.kind == kind
            for moment, _, _ in sent[m.device_id]["sent"]
            if t0 <= moment < t1
        )
        for kind in ("rest", "mqtt", "live")
    }
    readings = sum(in_window.values())
    print(f"\nsteady state over {window:.0f} s")
    print(
        f"  readings delivered: {readings} ({readings / window:.1f}/s): REST {in_window['rest']}, "
        f"MQTT {in_window['mqtt']}, live {in_window['live']}"
    )
    per = cpu / readings * 1e6 if readings else math.nan
    print(
        f"  CPU of Home Assistant's process: {cpu:.2f} s ({cpu / window * 100:.1f} % of one core), "
        f"{per:.0f} µs per reading"
    )
    above = (cpu - idle_rate * window) / readings * 1e6 if readings else math.nan
    print(
        f"  above the idle baseline (MQTT connected, no entry: {idle_rate * 1000:.1f} ms CPU/s): "
        f"{above:.0f} µs per reading"
    )
    print(f"  event-loop lag (50 ms sleeper): {_lag_text(lag)}")
    for note in lag_notes:
        print(f"    {note}")
    problems: list[str] = []
    total_lost, total_unexpected = _loss_table(meters, sent, problems)
    rest = [m for m in meters if m.kind == "rest"]
    if rest:
        produced = sum(sent[m.device_id]["produced"] for m in rest)
        served = sum(len(sent[m.device_id]["sent"]) for m in rest)
        reads = sum(sent[m.device_id]["report_requests"] for m in rest)
        answered = sum(sent[m.device_id]["report_answers"] for m in rest)
        print(
            f"  REST sampling: {produced} telegrams decoded, {served} read by a poll, "
            f"{produced - served} not polled; {reads} report requests, {answered} answered 200 "
            f"({answered / served if served else math.nan:.2f} per reading read)"
        )
    errors = sum(v["errors"] for v in sent.values())
    if errors:
        problems.append(f"simulators: {errors} telegrams failed (see the worker logs)")
    if not setup_ok or loaded != len(meters):
        problems.append(f"set-up: {loaded} of {len(meters)} entries loaded")
    if problems:
        print(f"\nPROBLEMS ({len(problems)}, first 20):")
        for text in problems[:20]:
            print(f"  {text}")
    verdict = "0 readings lost" if total_lost == 0 and total_unexpected == 0 else "READINGS LOST"
    print(f"\n{verdict}: lost {total_lost}, unexpected {total_unexpected}")
    return 0 if not problems else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command-line options."""
    p = argparse.ArgumentParser(prog="python -m bench.fifty_meters", description=__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--quick", action="store_true", help="~30 s with 4 REST, 4 MQTT, 2 live")
    p.add_argument("--minutes", type=float, help="measuring window (default 5; quick 0.5)")
    p.add_argument("--rest", type=int, help="REST entries (default 20; quick 4)")
    p.add_argument("--mqtt", type=int, help="MQTT entries (default 20; quick 4)")
    p.add_argument("--live", type=int, help="live entries (default 10; quick 2)")
    p.add_argument(
        "--idle", type=float, help="seconds of idle baseline before set-up (default 10; quick 3)"
    )
    p.add_argument("--code", help="checkout whose custom_components/ and simulator/ to measure")
    args = p.parse_args(argv)
    quick = args.quick
    args.minutes = args.minutes if args.minutes is not None else (0.5 if quick else 5.0)
    args.rest = args.rest if args.rest is not None else (4 if quick else 20)
    args.mqtt = args.mqtt if args.mqtt is not None else (4 if quick else 20)
    args.live = args.live if args.live is not None else (2 if quick else 10)
    args.idle = args.idle if args.idle is not None else (3.0 if quick else 10.0)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run from the command line."""
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
