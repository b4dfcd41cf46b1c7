"""Benchmark A: CPU per MQTT message, the integration against a minimal reference.

Run: ``.venv/bin/python -m bench.mqtt_hot_path`` (``--quick`` for a smoke test, ``--help``).

Everything goes through a real mosquitto (private, 127.0.0.1, free port) and Home Assistant's
real MQTT integration. One raw publisher in this process sends the integration's own template
(``api/template.py``, rendered by the simulator's ``template.render``) carrying every measurement
of a three-phase meter. Five variants, each its own device id and topic:

- ``floor``: messages to ``bench/floor/<id>``, a topic nobody subscribes to (what publishing and
  the broker round trip cost this process by themselves);
- ``integration``: an MQTT-only whatwatt entry on ``whatwatt/<id>`` (the default topic, which the
  manifest's MQTT discovery matcher ``whatwatt/+`` also sees, when the manifest has it);
- ``reference``: a tiny in-bench integration (``bench_ref``) on ``whatwatt/<id>``: plain
  ``SensorEntity`` objects with the same device classes, units, suggested units and state classes
  as the integration's sensors, one ``json.loads`` per message, ``float()`` per value, and
  ``async_write_ha_state()`` only when the value changed; subscribed with ``mqtt.async_subscribe``;
- ``integration-other`` / ``reference-other``: the same two on ``bench/other/<id>`` (no
  discovery matcher sees that topic);
- ``mqtt-delivery``: a subscriber on ``bench/null/<id>`` whose callback does nothing (what Home
  Assistant's MQTT client costs per message before any integration code runs).

The reference mirrors the sensor set the integration created (measurements, ``power_net``,
``tariff``, ``meter_status``, ``report_time``), so both write the same states for the same
payload. Messages go in chunks (``--chunk``, 200); a round sends one chunk per stream to every
variant, in an order that rotates from round to round, so all share the machine's state.
A chunk's CPU time (``time.process_time``, the whole process: publisher, broker client,
Home Assistant) runs from the first publish until (a) a barrier message published after the
chunk on ``bench/barrier`` came back, (b) the expected number of state changes arrived, and
(c) Home Assistant has no pending task (the discovery flows the messages started). Nothing
sleeps where an event can be awaited.

Streams (``g`` counts a device's messages; every message carries the next second as its
meter time, so ``report_time`` changes with every message in every stream):

1. ``all``: every value changes every message (powers, currents, voltages, power factor
   oscillate; energies, reactive energies and maximum demand rise; the tariff alternates);
2. ``meter``: powers (active per phase and total, reactive, apparent), power factor and currents
   change every message, voltages every 2nd, import energy (total, T2, reactive) every 3rd,
   export energy (total, T2, reactive) every 10th; T1 registers, maximum demand and tariff never;
3. ``same``: identical measurement values (only the meter time moves on).

Reported per stream: CPU µs per message above the floor (median over rounds, min-max), the
ratio integration/reference as the median of per-round ratios (min-max), the ratio of the
integration on ``whatwatt/<id>`` to the one on ``bench/other/<id>``, and state writes per
message. Correctness is checked, not timed: every expected state change per entity arrived
(``state_changed`` counted per entity), no entity wrote an unchanged state (``state_reported``
counted per entity), and each chunk ends with the expected value on every entity and the same
state on the integration's and the reference's entities. Times are never asserted; a
correctness failure makes the exit status 1.
"""

from __future__ import annotations

from bench import _code  # isort: skip  # noqa: F401 - before the integration and simulator

import argparse
import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import gc
import json
import math
import sys
import time
from typing import TYPE_CHECKING, Any

from homeassistant.components import mqtt
from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.config_entries import ConfigFlow
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfReactivePower,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_integration,
    mock_platform,
)

from bench._harness import (
    Broker,
    RawPublisher,
    describe_code,
    fmt_spread,
    home_assistant,
    setup_mqtt,
    spread,
)
from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE, OWN_FIELDS
from simulator.template import render
from simulator.variables import NUMERIC

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.entity_platform import AddEntitiesCallback

DOMAIN = "whatwatt"
REF_DOMAIN = "bench_ref"
BARRIER_TOPIC = "bench/barrier"
WAIT_LIMIT = 60.0  # seconds a chunk may take before it counts as failed
QUIET = 1.0  # seconds without an expected state change after which a chunk gives up

# --- the sensors: what the integration describes, what the reference copies ------------------


@dataclass(frozen=True, slots=True)
class Spec:
    """How one sensor is described (the integration's sensor.py, copied for the reference)."""

    device_class: SensorDeviceClass | None = None
    state_class: SensorStateClass | None = None
    unit: str | None = None
    suggested_unit: str | None = None
    precision: int | None = None
    scale: float = 1.0  # native value = payload value x scale (kvar → var, kVA → VA)
    options: tuple[str, ...] | None = None

    @property
    def display_factor(self) -> float:
        """Return state / native value (kW shown in W)."""
        return 1000.0 if self.unit == UnitOfPower.KILO_WATT and self.suggested_unit else 1.0


POWER = Spec(
    SensorDeviceClass.POWER,
    SensorStateClass.MEASUREMENT,
    UnitOfPower.KILO_WATT,
    UnitOfPower.WATT,
    0,
)
ENERGY = Spec(
    SensorDeviceClass.ENERGY,
    SensorStateClass.TOTAL_INCREASING,
    UnitOfEnergy.KILO_WATT_HOUR,
    precision=3,
)
REACTIVE_ENERGY = Spec(
    getattr(SensorDeviceClass, "REACTIVE_ENERGY", None),
    SensorStateClass.TOTAL_INCREASING,
    "kvarh",
    precision=3,
)
METER_STATUS_OPTIONS = (
    "not_connected",
    "no_data",
    "recognition",
    "ok",
    "encryption_key",
    "key_required",
    "not_recognized",
)

SPECS: dict[str, Spec] = {
    "power_import": POWER,
    "power_export": POWER,
    "power_net": POWER,
    **{f"power_{way}_l{n}": POWER for way in ("import", "export") for n in (1, 2, 3)},
    **{
        f"reactive_power_{way}": Spec(
            SensorDeviceClass.REACTIVE_POWER,
            SensorStateClass.MEASUREMENT,
            UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
            precision=0,
            scale=1000.0,
        )
        for way in ("import", "export")
    },
    "apparent_power": Spec(
        SensorDeviceClass.APPARENT_POWER,
        SensorStateClass.MEASUREMENT,
        UnitOfApparentPower.VOLT_AMPERE,
        precision=0,
        scale=1000.0,
    ),
    "power_factor": Spec(SensorDeviceClass.POWER_FACTOR, SensorStateClass.MEASUREMENT, precision=2),
    **{
        f"voltage_l{n}": Spec(
            SensorDeviceClass.VOLTAGE, SensorStateClass.MEASUREMENT, UnitOfElectricPotential.VOLT
        )
        for n in (1, 2, 3)
    },
    **{
        f"current_l{n}": Spec(
            SensorDeviceClass.CURRENT, SensorStateClass.MEASUREMENT, UnitOfElectricCurrent.AMPERE
        )
        for n in (1, 2, 3)
    },
    **{f"energy_{way}{t}": ENERGY for way in ("import", "export") for t in ("", "_t1", "_t2")},
    "reactive_energy_import": REACTIVE_ENERGY,
    "reactive_energy_export": REACTIVE_ENERGY,
    "max_demand_import": POWER,
    "max_demand_export": POWER,
    "tariff": Spec(SensorDeviceClass.ENUM, options=("t1", "t2")),
    "meter_status": Spec(SensorDeviceClass.ENUM, options=METER_STATUS_OPTIONS),
    "report_time": Spec(SensorDeviceClass.TIMESTAMP),
}
TEXT_KEYS = frozenset({"tariff", "meter_status"})

# --- the payload streams ------------------------------------------------------------------------

# Oscillating values: base + step x (n mod period), on their decimal grid; consecutive n differ.
OSCILLATING: dict[str, tuple[float, float, int, int]] = {
    "power_import": (2.345, 0.011, 7, 3),
    "power_import_l1": (0.781, 0.003, 5, 3),
    "power_import_l2": (0.792, 0.004, 6, 3),
    "power_import_l3": (0.772, 0.004, 7, 3),
    "power_export": (0.121, 0.003, 5, 3),
    "power_export_l1": (0.041, 0.001, 3, 3),
    "power_export_l2": (0.042, 0.001, 4, 3),
    "power_export_l3": (0.038, 0.001, 5, 3),
    "reactive_power_import": (0.231, 0.002, 6, 3),
    "reactive_power_export": (0.011, 0.001, 4, 3),
    "apparent_power": (2.401, 0.012, 7, 3),
    "power_factor": (0.95, 0.01, 4, 2),
    "voltage_l1": (230.1, 0.1, 5, 1),
    "voltage_l2": (231.2, 0.1, 5, 1),
    "voltage_l3": (229.3, 0.1, 5, 1),
    "current_l1": (3.41, 0.01, 6, 2),
    "current_l2": (3.52, 0.01, 6, 2),
    "current_l3": (3.38, 0.01, 6, 2),
}
# Rising values: start, increment.
RISING: dict[str, tuple[float, float]] = {
    "energy_import": (12345.678, 0.002),
    "energy_import_t1": (8000.123, 0.001),
    "energy_import_t2": (4345.555, 0.001),
    "energy_export": (2100.512, 0.002),
    "energy_export_t1": (1500.251, 0.001),
    "energy_export_t2": (600.261, 0.001),
    "reactive_energy_import": (950.213, 0.001),
    "reactive_energy_export": (120.717, 0.001),
    "max_demand_import": (5.101, 0.001),
    "max_demand_export": (1.003, 0.001),
}
EVERY_MESSAGE_METER = frozenset(
    key for key in OSCILLATING if not key.startswith("voltage")
)  # powers, reactive/apparent power, power factor, currents
EVERY_3RD = ("energy_import", "energy_import_t2", "reactive_energy_import")
EVERY_10TH = ("energy_export", "energy_export_t2", "reactive_energy_export")
STREAMS = {
    "all": "every value changes every message",
    "meter": "meter-like: power/current every msg, voltage every 2nd, energy every 3rd/10th",
    "same": "identical measurement values (only the meter time moves on)",
}


def _osc(key: str, n: int) -> float:
    base, step, period, decimals = OSCILLATING[key]
    return round(base + step * (n % period), decimals)


@dataclass(frozen=True, slots=True)
class Reading:
    """One message's content: measurement values, tariff, meter time."""

    g: int
    values: dict[str, float]
    tariff: int
    moment: datetime


def first_reading(start: datetime) -> Reading:
    """Return message 0 (the warm-up message)."""
    values = {key: _osc(key, 0) for key in OSCILLATING}
    values.update({key: start_value for key, (start_value, _) in RISING.items()})
    return Reading(0, values, 2, start)


def next_reading(stream: str, prev: Reading, start: datetime) -> Reading:
    """Return the message after ``prev`` in ``stream``."""
    g = prev.g + 1
    values = dict(prev.values)
    tariff = prev.tariff
    if stream == "all":
        values.update({key: _osc(key, g) for key in OSCILLATING})
        for key, (_, increment) in RISING.items():
            values[key] = round(values[key] + increment, 3)
        tariff = 1 + g % 2
    elif stream == "meter":
        values.update({key: _osc(key, g) for key in EVERY_MESSAGE_METER})
        values.update({f"voltage_l{n}": _osc(f"voltage_l{n}", g // 2) for n in (1, 2, 3)})
        for keys, every in ((EVERY_3RD, 3), (EVERY_10TH, 10)):
            if g % every == 0:
                for key in keys:
                    values[key] = round(values[key] + RISING[key][1], 3)
    return Reading(g, values, tariff, start + timedelta(seconds=g))


def natives(reading: Reading) -> dict[str, Any]:
    """Return the native value every sensor should have after this message."""
    out: dict[str, Any] = {}
    for key, value in reading.values.items():
        scale = SPECS[key].scale
        out[key] = round(value * scale, 6) if scale != 1.0 else value
    out["power_net"] = round(reading.values["power_import"] - reading.values["power_export"], 6)
    out["tariff"] = f"t{reading.tariff}"
    out["meter_status"] = "ok"
    out["report_time"] = reading.moment
    return out


def render_payload(reading: Reading, device_id: str) -> bytes:
    """Render the integration's own template for this reading, as the device would."""
    variables: dict[str, str | int | float | None] = {
        field_.variable: reading.values.get(field_.measurement) for field_ in OWN_FIELDS
    }
    variables.update(
        {
            "sys.id": device_id,
            "meter.date_time_utc": reading.moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timestamp": int(reading.moment.timestamp()),
            "meter.status": "OK",
            "tariff": reading.tariff,
        }
    )
    return render(INTEGRATION_TEMPLATE, variables, NUMERIC).encode()


@dataclass(slots=True)
class Plan:
    """One chunk's messages (the same for every variant but the device id)."""

    stream: str
    readings: list[Reading]
    changes: dict[str, int]  # key → expected state changes over the chunk
    final: dict[str, Any]  # key → native value after the chunk


def make_plan(stream: str, prev: Reading, count: int, start: datetime) -> Plan:
    """Build ``count`` messages of ``stream`` following ``prev``."""
    readings: list[Reading] = []
    changes: dict[str, int] = defaultdict(int)
    last = natives(prev)
    reading = prev
    for _ in range(count):
        reading = next_reading(stream, reading, start)
        now = natives(reading)
        for key, value in now.items():
            if value != last[key]:
                changes[key] += 1
        readings.append(reading)
        last = now
    return Plan(stream, readings, dict(changes), last)


# --- the reference integration ------------------------------------------------------------------


class RefSensor(SensorEntity):
    """A plain sensor: the state is whatever the message handler put in ``native_value``."""

    _attr_should_poll = False
    _attr_has_entity_name = True

    def __init__(self, device_id: str, key: str) -> None:
        """Describe the sensor like the integration's sensor with this key."""
        spec = SPECS[key]
        self._attr_unique_id = f"{device_id}_{key}"
        self._attr_name = key.replace("_", " ")
        self._attr_device_class = spec.device_class
        self._attr_state_class = spec.state_class
        self._attr_native_unit_of_measurement = spec.unit
        self._attr_suggested_unit_of_measurement = spec.suggested_unit
        self._attr_suggested_display_precision = spec.precision
        if spec.options is not None:
            self._attr_options = list(spec.options)
        self._attr_device_info = DeviceInfo(
            identifiers={(REF_DOMAIN, device_id)}, name=f"reference {device_id[-6:]}"
        )
        self._attr_native_value = None


class RefDevice:
    """The reference's whole job for one device: parse, compare, write."""

    def __init__(self, device_id: str, keys: list[str]) -> None:
        """Create one sensor per key."""
        self.sensors = {key: RefSensor(device_id, key) for key in keys}
        wire = {f.measurement: f.key for f in OWN_FIELDS}
        self._numeric = [
            (wire[key], self.sensors[key], SPECS[key].scale)
            for key in keys
            if key in wire and key in SPECS
        ]
        self._net = self.sensors.get("power_net")
        self._tariff = self.sensors.get("tariff")
        self._status = self.sensors.get("meter_status")
        self._time = self.sensors.get("report_time")

    @callback
    def message(self, msg: mqtt.ReceiveMessage) -> None:  # noqa: C901 - one flat hot path
        """Handle one MQTT message."""
        data = json.loads(msg.payload)
        for wire_key, sensor, scale in self._numeric:
            raw = data.get(wire_key)
            if raw is None:
                continue
            value = float(raw) if scale == 1.0 else round(float(raw) * scale, 6)
            if value != sensor._attr_native_value:  # noqa: SLF001 - the entity's own slot
                sensor._attr_native_value = value  # noqa: SLF001
                sensor.async_write_ha_state()
        if (net := self._net) is not None:
            imported, exported = data.get("pi"), data.get("po")
            if imported is not None and exported is not None:
                value = round(float(imported) - float(exported), 6)
                if value != net._attr_native_value:  # noqa: SLF001
                    net._attr_native_value = value  # noqa: SLF001
                    net.async_write_ha_state()
        if (tariff := self._tariff) is not None:
            text = f"t{data['tr']}" if data.get("tr") in (1, 2) else None
            if text != tariff._attr_native_value:  # noqa: SLF001
                tariff._attr_native_value = text  # noqa: SLF001
                tariff.async_write_ha_state()
        if (status := self._status) is not None and isinstance(data.get("ms"), str):
            text = data["ms"].strip().lower().replace(" ", "_")
            if text != status._attr_native_value:  # noqa: SLF001
                status._attr_native_value = text  # noqa: SLF001
                status.async_write_ha_state()
        if (stamp := self._time) is not None and isinstance(data.get("ts"), str):
            moment = datetime.fromisoformat(data["ts"])
            if moment != stamp._attr_native_value:  # noqa: SLF001
                stamp._attr_native_value = moment  # noqa: SLF001
                stamp.async_write_ha_state()


def install_reference(hass: HomeAssistant) -> None:
    """Register the in-bench integration ``bench_ref`` and its sensor platform."""

    async def setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        device = RefDevice(entry.data["device_id"], list(entry.data["keys"]))
        entry.runtime_data = device
        await hass.config_entries.async_forward_entry_setups(entry, ["sensor"])
        entry.async_on_unload(
            await mqtt.async_subscribe(
                hass, entry.data["topic"], device.message, qos=0, encoding=None
            )
        )
        return True

    async def unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        return await hass.config_entries.async_unload_platforms(entry, ["sensor"])

    async def setup_sensors(
        hass: HomeAssistant,  # noqa: ARG001
        entry: ConfigEntry,
        async_add_entities: AddEntitiesCallback,
    ) -> None:
        async_add_entities(entry.runtime_data.sensors.values())

    mock_integration(
        hass,
        MockModule(
            REF_DOMAIN,
            dependencies=["mqtt"],
            async_setup_entry=setup_entry,
            async_unload_entry=unload_entry,
        ),
    )
    mock_platform(hass, f"{REF_DOMAIN}.sensor", MockPlatform(async_setup_entry=setup_sensors))
    mock_platform(hass, f"{REF_DOMAIN}.config_flow", None)  # entries need the platform to exist

    class RefFlow(ConfigFlow, domain=REF_DOMAIN):  # registers the (unused) flow handler
        VERSION = 1

    del RefFlow


# --- variants, counting ---------------------------------------------------------------------------


@dataclass(eq=False)
class Variant:
    """One device the bench feeds: what it is, where, and what it wrote."""

    name: str
    kind: str  # integration | reference | floor
    device_id: str
    topic: str
    entry: MockConfigEntry | None = None
    entities: dict[str, str] = field(default_factory=dict)  # key → entity_id
    extra_entities: dict[str, str] = field(default_factory=dict)  # entity_id → unique id
    changed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    reported: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: int = 0
    target: int = 0
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def label(self) -> str:
        """Return ``name (topic shape)``."""
        shape = self.topic.rsplit("/", 1)[0]
        return f"{self.name} ({shape}/<id>)"


class Counter:
    """Count state_changed and state_reported events per tracked entity."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Listen on the bus (one listener each; the same cost for every variant)."""
        self.owner: dict[str, tuple[Variant, str]] = {}
        self.extra: dict[str, int] = defaultdict(int)
        self._extra_owner: dict[str, Variant] = {}
        self._unsubs = [
            hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed),
            hass.bus.async_listen(
                EVENT_STATE_REPORTED, self._reported, event_filter=self._is_tracked
            ),
        ]

    def track(self, variant: Variant) -> None:
        """Count the entities of ``variant``."""
        for key, entity_id in variant.entities.items():
            self.owner[entity_id] = (variant, key)
        for entity_id in variant.extra_entities:
            self._extra_owner[entity_id] = variant

    @callback
    def _is_tracked(self, data: Any) -> bool:
        return data["entity_id"] in self.owner

    @callback
    def _changed(self, event: Event[Any]) -> None:
        entity_id = event.data["entity_id"]
        owner = self.owner.get(entity_id)
        if owner is None:
            if entity_id in self._extra_owner:
                self.extra[entity_id] += 1
            return
        variant, key = owner
        variant.changed[key] += 1
        variant.total += 1
        if variant.total >= variant.target:
            variant.reached.set()

    @callback
    def _reported(self, event: Event[Any]) -> None:
        variant, key = self.owner[event.data["entity_id"]]
        variant.reported[key] += 1

    def close(self) -> None:
        """Stop listening."""
        for unsub in self._unsubs:
            unsub()


@dataclass(slots=True)
class ChunkResult:
    """What one chunk cost and whether it was right."""

    cpu: float
    wall: float
    writes: int
    failures: list[str]


# --- the bench ------------------------------------------------------------------------------------


class HotPathBench:
    """Set up every variant, then run the rounds."""

    def __init__(
        self, hass: HomeAssistant, publisher: RawPublisher, args: argparse.Namespace
    ) -> None:
        """Prepare the variants (nothing set up yet)."""
        self.hass = hass
        self.publisher = publisher
        self.args = args
        self.start = datetime.now(UTC).replace(microsecond=0)
        self.counter = Counter(hass)
        self.barrier = asyncio.Event()
        self.barrier_seq = 0
        self.variants = {
            "floor": Variant("floor", "floor", "B0B0B0000005", "bench/floor/B0B0B0000005"),
            "integration": Variant(
                "integration", "integration", "B0B0B0000001", "whatwatt/B0B0B0000001"
            ),
            "reference": Variant("reference", "reference", "B0B0B0000002", "whatwatt/B0B0B0000002"),
            "integration-other": Variant(
                "integration-other", "integration", "B0B0B0000003", "bench/other/B0B0B0000003"
            ),
            "reference-other": Variant(
                "reference-other", "reference", "B0B0B0000004", "bench/other/B0B0B0000004"
            ),
            "mqtt-delivery": Variant(
                "mqtt-delivery", "null", "B0B0B0000006", "bench/null/B0B0B0000006"
            ),
        }
        self.last = first_reading(self.start)
        self.failures: list[str] = []
        self.notes: list[str] = []
        self.disabled: list[str] = []  # the integration's entities disabled by default

    # -- set-up ------------------------------------------------------------------------------

    async def set_up(self) -> None:
        """Entries, entities, barrier; every variant shows message 0."""
        unknown = [f.measurement for f in OWN_FIELDS if f.measurement not in SPECS]
        if unknown:
            self.notes.append(f"template fields the bench does not know (sent as null): {unknown}")
        await self._subscribe_bench_topics()
        for name in ("integration", "integration-other"):
            await self._set_up_integration(self.variants[name])
        await self._show_first(["integration", "integration-other"])
        for name in ("integration", "integration-other"):
            self._collect_entities(self.variants[name])
        keys = sorted(self.variants["integration"].entities)
        if sorted(self.variants["integration-other"].entities) != keys:
            self.failures.append("the two integration entries created different sensors")
        install_reference(self.hass)
        for name in ("reference", "reference-other"):
            await self._set_up_reference(self.variants[name], keys)
        await self._show_first(["reference", "reference-other"])
        await self._sync_barrier()
        for variant in self.variants.values():
            self.counter.track(variant)
        self._compare_attributes(keys)
        self.keys = keys

    async def _subscribe_bench_topics(self) -> None:
        """The barrier, and the do-nothing subscriber of ``mqtt-delivery``."""

        @callback
        def on_barrier(msg: mqtt.ReceiveMessage) -> None:
            if msg.payload == str(self.barrier_seq).encode():
                self.barrier.set()

        @callback
        def on_null(msg: mqtt.ReceiveMessage) -> None:
            """Take the message and do nothing (what Home Assistant's delivery alone costs)."""

        self._unsub_barrier = await mqtt.async_subscribe(
            self.hass, BARRIER_TOPIC, on_barrier, qos=0, encoding=None
        )
        self._unsub_null = await mqtt.async_subscribe(
            self.hass, self.variants["mqtt-delivery"].topic, on_null, qos=0, encoding=None
        )

    async def _set_up_integration(self, variant: Variant) -> None:
        """An MQTT-only whatwatt entry (the entry data contract)."""
        variant.entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"whatwatt Go {variant.device_id[-6:]}",
            unique_id=variant.device_id,
            data={"transport": "mqtt", "topic": variant.topic},
        )
        variant.entry.add_to_hass(self.hass)
        if not await self.hass.config_entries.async_setup(variant.entry.entry_id):
            raise SystemExit(f"the {variant.name} entry did not set up: {variant.entry.state}")

    def _collect_entities(self, variant: Variant) -> None:
        """Find the entry's enabled sensors by their contract unique ids."""
        assert variant.entry is not None
        registry = er.async_get(self.hass)
        for reg in er.async_entries_for_config_entry(registry, variant.entry.entry_id):
            key = reg.unique_id.removeprefix(f"{variant.device_id}_")
            if reg.disabled_by is not None:  # disabled by default: never written
                if variant.name == "integration":
                    self.disabled.append(key)
            elif reg.domain == "sensor" and key in SPECS:
                variant.entities[key] = reg.entity_id
            else:
                variant.extra_entities[reg.entity_id] = reg.unique_id

    async def _set_up_reference(self, variant: Variant, keys: list[str]) -> None:
        """A ``bench_ref`` entry with the sensors ``keys``."""
        variant.entry = MockConfigEntry(
            domain=REF_DOMAIN,
            title=f"reference {variant.device_id[-6:]}",
            unique_id=variant.device_id,
            data={"device_id": variant.device_id, "topic": variant.topic, "keys": keys},
        )
        variant.entry.add_to_hass(self.hass)
        assert await self.hass.config_entries.async_setup(variant.entry.entry_id)
        registry = er.async_get(self.hass)
        for key in keys:
            entity_id = registry.async_get_entity_id(
                "sensor", REF_DOMAIN, f"{variant.device_id}_{key}"
            )
            assert entity_id is not None
            variant.entities[key] = entity_id

    async def _show_first(self, names: list[str]) -> None:
        """Publish message 0 until every variant shows it (subscriptions take a moment)."""
        registry = er.async_get(self.hass)
        expected = natives(self.last)["power_import"] * 1000

        def shown(variant: Variant) -> bool:
            entity_id = variant.entities.get("power_import") or registry.async_get_entity_id(
                "sensor",
                DOMAIN if variant.kind == "integration" else REF_DOMAIN,
                f"{variant.device_id}_power_import",
            )
            state = self.hass.states.get(entity_id) if entity_id else None
            try:
                return state is not None and math.isclose(float(state.state), expected)
            except ValueError:
                return False

        async with asyncio.timeout(30):
            while True:
                pending = [self.variants[n] for n in names if not shown(self.variants[n])]
                if not pending:
                    break
                for variant in pending:
                    await self.publisher.publish(
                        variant.topic, render_payload(self.last, variant.device_id)
                    )
                await asyncio.sleep(0.2)  # the subscription's debounce: nothing to await
                await self.hass.async_block_till_done()
        await self.hass.async_block_till_done()

    async def _sync_barrier(self) -> None:
        """Publish the barrier until it comes back (its subscription takes a moment too)."""
        async with asyncio.timeout(30):
            while True:
                self.barrier_seq += 1
                self.barrier.clear()
                await self.publisher.publish(BARRIER_TOPIC, str(self.barrier_seq).encode())
                try:
                    async with asyncio.timeout(0.5):
                        await self.barrier.wait()
                except TimeoutError:
                    continue
                return

    def _compare_attributes(self, keys: list[str]) -> None:
        """Note where the reference's sensors do not look like the integration's."""
        states = self.hass.states
        integration, reference = self.variants["integration"], self.variants["reference"]
        for key in keys:
            a = states.get(integration.entities[key])
            b = states.get(reference.entities[key])
            if a is None or b is None:
                self.failures.append(f"{key}: no state after set-up")
                continue
            for attr in ("unit_of_measurement", "device_class", "state_class", "options"):
                if a.attributes.get(attr) != b.attributes.get(attr):
                    self.notes.append(
                        f"{key}: {attr} integration={a.attributes.get(attr)!r} "
                        f"reference={b.attributes.get(attr)!r}"
                    )

    # -- one chunk -----------------------------------------------------------------------------

    async def run_chunk(self, variant: Variant, plan: Plan, payloads: list[bytes]) -> ChunkResult:
        """Publish one chunk to one variant and measure it."""
        hass = self.hass
        expected = {key: plan.changes.get(key, 0) for key in variant.entities}
        changed_before = dict(variant.changed)
        reported_before = dict(variant.reported)
        variant.target = variant.total + sum(expected.values())
        variant.reached.clear()
        if variant.total >= variant.target:
            variant.reached.set()
        self.barrier_seq += 1
        barrier = str(self.barrier_seq).encode()
        self.barrier.clear()
        await hass.async_block_till_done()
        gc.collect()
        publisher = self.publisher
        topic = variant.topic
        failures: list[str] = []
        wall0 = time.perf_counter()
        cpu0 = time.process_time()
        for payload in payloads:
            publisher.write(topic, payload)
        publisher.write(BARRIER_TOPIC, barrier)
        await publisher.drain()
        try:
            async with asyncio.timeout(WAIT_LIMIT):
                await self.barrier.wait()
        except TimeoutError:
            failures.append(f"{variant.name}/{plan.stream}: the barrier never came back")
        await self._settle(variant, failures, plan)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        writes = 0
        for key, want in expected.items():
            got = variant.changed.get(key, 0) - changed_before.get(key, 0)
            writes += got
            if got != want:
                failures.append(
                    f"{variant.name}/{plan.stream}: {key} changed {got} times, expected {want}"
                )
            redundant = variant.reported.get(key, 0) - reported_before.get(key, 0)
            if redundant:
                failures.append(
                    f"{variant.name}/{plan.stream}: {key} wrote its unchanged state "
                    f"{redundant} times"
                )
        failures.extend(self._check_final(variant, plan))
        return ChunkResult(cpu, wall, writes, failures)

    async def _settle(self, variant: Variant, failures: list[str], plan: Plan) -> None:
        """Wait for the expected state changes and for Home Assistant to be idle (bounded).

        Writes may lag the barrier (a deferred write); as long as they keep coming the wait
        goes on, and ends after QUIET seconds without progress (counted as a failure).
        """
        hass = self.hass
        try:
            async with asyncio.timeout(WAIT_LIMIT):
                while not variant.reached.is_set():
                    seen = variant.total
                    try:
                        async with asyncio.timeout(QUIET):
                            await variant.reached.wait()
                    except TimeoutError:
                        if variant.total == seen:
                            failures.append(
                                f"{variant.name}/{plan.stream}: {variant.target - variant.total} "
                                f"expected state changes did not come ({QUIET:.0f} s quiet)"
                            )
                            break
                await hass.async_block_till_done()
        except TimeoutError:
            failures.append(f"{variant.name}/{plan.stream}: Home Assistant never became idle")

    def _check_final(self, variant: Variant, plan: Plan) -> list[str]:
        """Every entity shows the chunk's last value."""
        failures = []
        for key, entity_id in variant.entities.items():
            state = self.hass.states.get(entity_id)
            want = plan.final[key]
            text = state.state if state is not None else None
            if not _matches(key, text, want):
                failures.append(
                    f"{variant.name}/{plan.stream}: {key} shows {text!r}, expected {want!r}"
                )
        return failures

    def compare_states(self) -> list[str]:
        """The integration's and the reference's entities show the same (after the same plan)."""
        failures = []
        states = self.hass.states
        for a_name, b_name in (("integration", "reference"), ("integration-other", "reference")):
            a, b = self.variants[a_name], self.variants[b_name]
            for key in self.keys:
                sa, sb = states.get(a.entities[key]), states.get(b.entities[key])
                va, vb = (sa.state if sa else None), (sb.state if sb else None)
                if va != vb and not _same_number(va, vb):
                    failures.append(f"{key}: {a_name} shows {va!r}, {b_name} {vb!r}")
        return failures

    # -- rounds ---------------------------------------------------------------------------------

    async def run_round(
        self, round_no: int, chunk: int, results: dict[str, dict[str, list[ChunkResult]]] | None
    ) -> None:
        """One chunk per stream for every variant (the variant order rotates)."""
        order = list(self.variants.values())
        shift = round_no % len(order)
        order = order[shift:] + order[:shift]
        for stream in STREAMS:
            plan = make_plan(stream, self.last, chunk, self.start)
            for variant in order:
                payloads = [render_payload(r, variant.device_id) for r in plan.readings]
                result = await self.run_chunk(variant, plan, payloads)
                self.failures.extend(result.failures)
                if results is not None:
                    results[stream][variant.name].append(result)
            self.failures.extend(f"{stream}: {text}" for text in self.compare_states())
            self.last = plan.readings[-1]

    def extra_writes(self) -> int:
        """Return the state changes of integration entities the bench does not know."""
        return sum(self.counter.extra.values())

    async def close(self) -> None:
        """Stop listening."""
        self.counter.close()
        self._unsub_barrier()
        self._unsub_null()


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _same_number(a: str | None, b: str | None) -> bool:
    x, y = _number(a), _number(b)
    return x is not None and y is not None and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)


def _matches(key: str, text: str | None, want: Any) -> bool:
    if text is None:
        return False
    if key == "report_time":
        try:
            return bool(datetime.fromisoformat(text) == want)
        except ValueError:
            return False
    if key in TEXT_KEYS:
        return bool(text == want)
    value = _number(text)
    target = want * SPECS[key].display_factor
    return value is not None and math.isclose(value, target, rel_tol=1e-9, abs_tol=1e-6)


# --- report ---------------------------------------------------------------------------------------


def report(
    bench: HotPathBench,
    results: dict[str, dict[str, list[ChunkResult]]],
    chunk: int,
    rounds: int,
) -> None:
    """Print the figures."""
    names = list(bench.variants)
    print(f"\n{chunk} messages per chunk, {rounds} rounds; CPU = time.process_time of this process")
    print(
        f"{len(bench.keys)} sensors per device (integration and reference alike); figures: median "
        "over rounds (min-max)"
    )
    if bench.disabled:
        print(f"left out (disabled by default in the integration): {', '.join(bench.disabled)}")
    other = sorted(
        uid.removeprefix(f"{bench.variants['integration'].device_id}_")
        for uid in bench.variants["integration"].extra_entities.values()
    )
    if other:
        print(f"other enabled entities of the integration (not mirrored): {', '.join(other)}")
    for stream, description in STREAMS.items():
        per = results[stream]
        floor = [r.cpu / chunk * 1e6 for r in per["floor"]]
        print(f"\nstream {stream}: {description}")
        print(f"  {'variant':<42}{'CPU µs/msg':>26}{'above floor µs/msg':>28}{'writes/msg':>12}")
        above: dict[str, list[float]] = {}
        for name in names:
            cpu = [r.cpu / chunk * 1e6 for r in per[name]]
            above[name] = [c - f for c, f in zip(cpu, floor, strict=True)]
            writes = spread(r.writes / chunk for r in per[name])[0]
            label = bench.variants[name].label
            above_text = "—" if name == "floor" else fmt_spread(above[name])
            print(f"  {label:<42}{fmt_spread(cpu):>26}{above_text:>28}{writes:>12.2f}")

        def ratio(a: str, b: str, above: dict[str, list[float]] = above) -> str:
            values = [x / y if y > 0 else math.nan for x, y in zip(above[a], above[b], strict=True)]
            return fmt_spread(values, 2, "x")

        print(
            f"  integration / reference, whatwatt/<id>:        {ratio('integration', 'reference')}"
        )
        print(
            "  integration / reference, bench/other/<id>:     "
            f"{ratio('integration-other', 'reference-other')}"
        )
        print(
            "  integration whatwatt/<id> / bench/other/<id>:  "
            f"{ratio('integration', 'integration-other')}"
        )
        print(
            "  reference   whatwatt/<id> / bench/other/<id>:  "
            f"{ratio('reference', 'reference-other')}"
        )
        delivery = above["mqtt-delivery"]
        own: dict[str, list[float]] = {
            name: [a - d for a, d in zip(above[name], delivery, strict=True)]
            for name in ("integration", "reference")
        }
        own_ratio = [x / y if y > 0 else math.nan for x, y in zip(*own.values(), strict=True)]
        print(
            "  own code only (above mqtt-delivery), whatwatt/<id>: integration "
            f"{fmt_spread(own['integration'])} µs, reference {fmt_spread(own['reference'])} µs, "
            f"ratio {fmt_spread(own_ratio, 2, 'x')}"
        )
    end = bench.last.moment
    ahead = (end - datetime.now(UTC)).total_seconds()
    print(
        f"\nmeter time of the last message: {end.isoformat()} "
        f"({ahead / 60:+.0f} min from the wall clock; 1 s per message)"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command-line options."""
    p = argparse.ArgumentParser(prog="python -m bench.mqtt_hot_path", description=__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--quick", action="store_true", help="smoke test: 2 rounds of 100 messages")
    p.add_argument("--rounds", type=int, help="measured rounds (default 20; quick 2)")
    p.add_argument("--chunk", type=int, help="messages per chunk (default 200; quick 100)")
    p.add_argument("--code", help="checkout whose custom_components/ and simulator/ to measure")
    args = p.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 20)
    args.chunk = args.chunk or (100 if args.quick else 200)
    return args


async def run(args: argparse.Namespace) -> int:
    """Run the bench; return the exit status."""
    import tempfile  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="whatwatt-bench-broker-") as workdir:
        from pathlib import Path  # noqa: PLC0415

        broker = Broker(Path(workdir))
        broker.start()
        try:
            async with home_assistant() as hass:
                await setup_mqtt(hass, broker.port)
                publisher = await RawPublisher.connect(broker.port, "bench-publisher")
                bench = HotPathBench(hass, publisher, args)
                try:
                    return await _measure(bench, args)
                finally:
                    await bench.close()
                    await publisher.close()
        finally:
            broker.stop()


async def _measure(bench: HotPathBench, args: argparse.Namespace) -> int:
    print(f"code: {describe_code()}")
    print(f"python {sys.version.split()[0]}, Home Assistant {_ha_version()}")
    await bench.set_up()
    warm = max(20, args.chunk // 4)
    await bench.run_round(0, warm, None)  # warm-up, not measured (still checked)
    results: dict[str, dict[str, list[ChunkResult]]] = {
        stream: {name: [] for name in bench.variants} for stream in STREAMS
    }
    for round_no in range(1, args.rounds + 1):
        await bench.run_round(round_no, args.chunk, results)
    report(bench, results, args.chunk, args.rounds)
    if bench.extra_writes():
        print(f"state changes of other integration entities: {bench.extra_writes()}")
    for note in bench.notes:
        print(f"note: {note}")
    if bench.failures:
        print(f"\nCORRECTNESS: {len(bench.failures)} problems (first 30):")
        for text in bench.failures[:30]:
            print(f"  {text}")
        return 1
    print(
        "\ncorrectness: every expected state change arrived on every entity, no unchanged state "
        "was written, every chunk ended on the expected values, integration and reference agree"
    )
    return 0


def _ha_version() -> str:
    from homeassistant.const import __version__  # noqa: PLC0415

    return __version__


def main(argv: list[str] | None = None) -> int:
    """Run from the command line."""
    args = parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
