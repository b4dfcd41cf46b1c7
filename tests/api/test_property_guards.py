"""Property: the guards between the parsers and the entities hold whatever arrives.

- ``MqttInputGuard``: any sequence of messages on a topic (both templates, broken, binary, cut,
  nested, too large) is read without an exception; every reading it hands on (bad values filled
  in from the one before) is within the boundary's promise.
- ``TotalsGuard``: any sequence of readings (totals zero, negative, lower, far higher, up to the
  register range; sub-meters with and without counters) and of seeds (any float, late or not):
  no exception, the other values untouched, every total finite and not negative, each either
  the reading's own or the register's last good value, never a zero for a positive one; without
  seeds, a total goes down or jumps beyond ``MAX_JUMP`` only once ``CONFIRM_READINGS`` readings
  in a row confirm it (each following the one before as a counting meter's would), or after a
  meter exchange, which only such a confirmed fall announces.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from hypothesis import given, strategies as st

from custom_components.whatwatt.api.models import REGISTER_RANGE, Report, Volume
from custom_components.whatwatt.api.mqtt_input import (
    KIND_EMPTY,
    KIND_NOT_JSON,
    KIND_NOT_UTF8,
    KIND_PLACEHOLDER,
    KIND_TOO_LARGE,
    KIND_WRONG_TYPE,
    MqttInputGuard,
)
from custom_components.whatwatt.api.totals import (
    CONFIRM_READINGS,
    CONFIRM_TOLERANCE,
    ENERGY_KEYS,
    MAX_JUMP,
    TotalsGuard,
    volume_key,
)

from .model_checks import check_report
from .wire_strategies import OWN_MESSAGE, VENDOR_MESSAGE, payloads

TOPIC = "whatwatt/ECC9FF5C7F14"
KINDS = {
    KIND_EMPTY,
    KIND_TOO_LARGE,
    KIND_NOT_UTF8,
    KIND_NOT_JSON,
    KIND_PLACEHOLDER,
    KIND_WRONG_TYPE,
}


def _as_bytes(payload: str | bytes) -> bytes:
    """Home Assistant hands the guard bytes (the subscription has no encoding)."""
    return payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload


messages = st.one_of(payloads(OWN_MESSAGE), payloads(VENDOR_MESSAGE)).map(_as_bytes)


@given(sequence=st.lists(messages, max_size=8))
def test_mqtt_input_guard(sequence: list[bytes]) -> None:
    """Every message read or dropped, never an exception; what passes keeps the promise."""
    guard = MqttInputGuard("whatwatt Go")
    previous: Report | None = None
    for message in sequence:
        report = guard.parse(TOPIC, message)
        if report is None:
            continue
        previous = guard.accept(TOPIC, report, previous)
        check_report(previous)
        assert guard.warned <= KINDS


KEYS = ENERGY_KEYS[:3]
totals = st.one_of(
    st.sampled_from((0.0, -5.0, 12.0, 1000.0, 1012.0, 2013.0, REGISTER_RANGE[1], -1e12)),
    st.floats(min_value=0, max_value=3000),
    st.floats(*REGISTER_RANGE),
)
readings = st.tuples(
    st.fixed_dictionaries({}, optional=dict.fromkeys(KEYS, totals)),
    st.dictionaries(st.integers(0, 2), st.one_of(st.none(), totals), max_size=2),
)
seeds = st.tuples(
    st.sampled_from((*KEYS, volume_key(1), "power_import", "volume_x")),
    st.one_of(totals, st.sampled_from((math.inf, -math.inf, math.nan))),
    st.booleans(),
)


def _report(values: dict[str, float], counters: dict[int, float | None]) -> Report:
    volumes = {bus: Volume(bus=bus, cumulative=value) for bus, value in counters.items()}
    return Report(values={**values, "power_import": 1.5}, volumes=volumes)


def _registers(report: Report) -> dict[str, float | None]:
    found: dict[str, float | None] = {key: report.values.get(key) for key in KEYS}
    for bus, volume in (report.volumes or {}).items():
        found[volume_key(bus)] = volume.cumulative
    return found


def _check(guard: TotalsGuard, report: Report, checked: Report, before: dict[str, Any]) -> None:
    """The safety rules of one checked reading."""
    assert checked.values.get("power_import") == 1.5
    assert set(checked.volumes or {}) == set(report.volumes or {})
    incoming, outgoing = _registers(report), _registers(checked)
    for key, value in outgoing.items():
        if value is None:
            continue
        assert math.isfinite(value)
        assert value >= 0, (key, value)
        assert value in (incoming.get(key), before.get(key)), (key, value, incoming, before)
        last = before.get(key)
        assert not (value == 0 and last is not None and last > 0), (key, last)
        assert guard.last_good(key) == value


def _step(guard: TotalsGuard, step: Any) -> tuple[Report, Report, dict[str, Any]] | None:
    if step[0] == "seed":
        key, value, late = step[1]
        if late:
            guard.late_seed(Report(), key, value)
        else:
            guard.seed(key, value)
        return None
    report = _report(*step[1])
    before = {key: guard.last_good(key) for key in _registers(report)}
    checked = guard.check(report)
    _check(guard, report, checked, before)
    return report, checked, before


steps_with_seeds = st.lists(
    st.one_of(st.tuples(st.just("read"), readings), st.tuples(st.just("seed"), seeds)), max_size=20
)


@given(steps=steps_with_seeds)
def test_totals_guard_with_seeds(steps: list[Any]) -> None:
    """Readings and seeds in any order: the safety rules hold at every reading."""
    guard = TotalsGuard("whatwatt Go")
    for step in steps:
        _step(guard, step)


def _confirmed(series: list[float]) -> bool:
    """Return True when the last ``CONFIRM_READINGS`` values confirm a change: each follows the
    one before as a counting meter's would (at most ``CONFIRM_TOLERANCE`` lower, at most
    ``MAX_JUMP`` higher)."""
    tail = series[-CONFIRM_READINGS:]
    return len(tail) == CONFIRM_READINGS and all(
        before - CONFIRM_TOLERANCE * abs(before) <= value <= before + MAX_JUMP
        for before, value in itertools.pairwise(tail)
    )


@given(steps=st.lists(readings, max_size=20))
def test_totals_guard_confirms_resets(steps: list[Any]) -> None:
    """Without seeds: a total goes down or jumps only once three readings in a row confirm it,
    or after a meter exchange, which only a confirmed fall of an energy total announces."""
    exchanges: list[str | None] = []
    guard = TotalsGuard("whatwatt Go", on_exchange=lambda old, _new: exchanges.append(old))
    series: dict[str, list[float]] = {}
    for reading in steps:
        announced = len(exchanges)
        done = _step(guard, ("read", reading))
        assert done is not None
        report, checked, before = done
        incoming, outgoing = _registers(report), _registers(checked)
        for key, sent in incoming.items():
            if sent is not None:
                series.setdefault(key, []).append(sent)
        if len(exchanges) > announced:
            assert any(
                _confirmed(series[key]) and (incoming[key] or 0) < (before[key] or 0)
                for key in KEYS
                if incoming.get(key) is not None and before.get(key) is not None
            ), (series, before)
        for key, value in outgoing.items():
            last = before.get(key)
            if value is None or last is None or value == last:
                continue
            if value < last or value > last + MAX_JUMP:
                assert _confirmed(series[key]) or exchanges, (key, last, value, series[key])
