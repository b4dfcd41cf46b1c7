"""MQTT through a real mosquitto: the default topic ``whatwatt/<DEVICE_ID>`` with both templates,
``configure_mqtt`` / ``POST /_sim/mqtt``, and the clock and glitch faults in published messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

import pytest

from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE, MARKER_VERSION
from simulator.state import DEFAULT_MQTT_TEMPLATE

from .helpers import get_json, post_json

pytestmark = pytest.mark.mosquitto

DEVICE_ID = "A1B2C3D4E5F6"
DEFAULT_TOPIC = f"whatwatt/{DEVICE_ID}"
QUIET = 0.5  # seconds to wait for a message that must not come


async def start_device(simulator_factory, **kwargs):
    kwargs.setdefault("auth", "none")
    kwargs.setdefault("telegram_interval", 0)
    kwargs.setdefault("report_interval", 1)
    return await simulator_factory(**kwargs)


def publish_every_telegram(sim) -> None:
    """Drop the cadence (the device's minimum is 1 s) so back-to-back telegrams all publish."""
    sim.state.settings["services"]["report_interval"] = 0


@pytest.mark.parametrize("device_id", [DEVICE_ID, DEVICE_ID.lower()])
async def test_default_topic_with_integration_template(
    simulator_factory, mosquitto, session, device_id
):
    subscriber = await mosquitto.subscribe("whatwatt/#")
    sim = await start_device(
        simulator_factory,
        device_id=device_id,
        mqtt_url=mosquitto.url,
        mqtt_template=INTEGRATION_TEMPLATE,
    )  # no mqtt_topic: the default one
    await sim.publisher.wait_link(connected=True)
    settings = await get_json(session, f"{sim.url}/api/v1/mqtt/settings")
    assert settings["publish"]["topic"] == DEFAULT_TOPIC
    system = await get_json(session, f"{sim.url}/api/v1/system")
    assert f"whatwatt/{system['device']['id']}" == DEFAULT_TOPIC

    report = (await sim.emit_telegram())["report"]
    message = await subscriber.next()
    assert message.topic == DEFAULT_TOPIC
    payload = json.loads(message.payload)
    assert payload["id"] == DEVICE_ID
    assert payload["ei"] == report["energy"]["active"]["positive"]["total"]
    assert payload["ts"] == report["date_time_utc"]


async def test_default_topic_with_vendor_template(simulator_factory, mosquitto):
    subscriber = await mosquitto.subscribe("whatwatt/#")
    sim = await start_device(simulator_factory, mqtt_url=mosquitto.url)  # vendor template
    assert sim.state.mqtt_settings["publish"]["template"] == DEFAULT_MQTT_TEMPLATE
    await sim.publisher.wait_link(connected=True)
    report = (await sim.emit_telegram())["report"]
    message = await subscriber.next()
    assert message.topic == DEFAULT_TOPIC
    payload = json.loads(message.payload)
    assert payload["sys_id"] == DEVICE_ID
    assert payload["energy_in"] == str(report["energy"]["active"]["positive"]["total"])
    expected = int(datetime.fromisoformat(report["date_time_utc"]).timestamp())
    assert payload["time"] == str(expected)


async def test_configure_mqtt_over_http_at_run_time(simulator_factory, mosquitto, session):
    subscriber = await mosquitto.subscribe("#")
    sim = await start_device(simulator_factory)  # factory state: no broker, empty topic
    assert sim.state.mqtt_settings["publish"]["topic"] == ""
    body = {"url": mosquitto.url, "topic": None, "template": INTEGRATION_TEMPLATE}
    status, answer = await post_json(session, f"{sim.url}/_sim/mqtt", body)
    assert status == 200
    assert answer["enable"] is True
    assert answer["publish"] == {"topic": DEFAULT_TOPIC, "template": INTEGRATION_TEMPLATE}
    await sim.publisher.wait_link(connected=True)
    publish_every_telegram(sim)
    await sim.emit_telegram()
    own = await subscriber.next()
    assert own.topic == DEFAULT_TOPIC
    assert json.loads(own.payload)["wwha"] == MARKER_VERSION

    status, answer = await post_json(session, f"{sim.url}/_sim/mqtt", {"url": mosquitto.url})
    assert answer["publish"] == {"topic": DEFAULT_TOPIC, "template": DEFAULT_MQTT_TEMPLATE}
    await sim.publisher.wait_link(connected=True, min_connects=2)
    await sim.emit_telegram()
    vendor = await subscriber.next()
    assert vendor.topic == DEFAULT_TOPIC
    assert json.loads(vendor.payload)["sys_id"] == DEVICE_ID
    assert [r.path for r in sim.requests] == []  # not through the device's REST API

    status, _ = await post_json(session, f"{sim.url}/_sim/mqtt", {"topic": "x"})
    assert status == 400


async def test_configure_mqtt_in_process_moves_to_default_topic(simulator_factory, mosquitto):
    subscriber = await mosquitto.subscribe("#")
    sim = await start_device(
        simulator_factory, mqtt_url=mosquitto.url, mqtt_topic="elsewhere/meter"
    )
    await sim.publisher.wait_link(connected=True)
    sim.configure_mqtt(mosquitto.url, template=INTEGRATION_TEMPLATE)
    await sim.publisher.wait_link(connected=True, min_connects=2)
    await sim.emit_telegram()
    message = await subscriber.next()
    assert message.topic == DEFAULT_TOPIC
    assert json.loads(message.payload)["id"] == DEVICE_ID


async def test_published_times_follow_clock_offset_and_zone(simulator_factory, mosquitto):
    subscriber = await mosquitto.subscribe(DEFAULT_TOPIC)
    template = (
        '{"t":${timestamp},"ts":"${meter.date_time_utc}","tl":"${meter.date_time_local}",'
        '"td":"${meter.date_time}","st":"${sys.date_time_utc}"}'
    )
    sim = await start_device(simulator_factory, mqtt_url=mosquitto.url, mqtt_template=template)
    sim.faults.update({"clock_offset": 3 * 3600, "timezone": "-05:00"})
    await sim.publisher.wait_link(connected=True)
    await sim.emit_telegram()
    payload = json.loads((await subscriber.next()).payload)
    ahead = datetime.now(UTC) + timedelta(hours=3)
    assert abs(payload["t"] - ahead.timestamp()) < 5
    assert abs((datetime.fromisoformat(payload["ts"]) - ahead).total_seconds()) < 5
    assert abs((datetime.fromisoformat(payload["st"]) - ahead).total_seconds()) < 5
    local = datetime.fromisoformat(payload["tl"])
    assert local.utcoffset() == timedelta(hours=-5)
    assert payload["td"] == local.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_old_time_stamps_in_published_message(simulator_factory, mosquitto):
    subscriber = await mosquitto.subscribe(DEFAULT_TOPIC)
    sim = await start_device(
        simulator_factory, mqtt_url=mosquitto.url, mqtt_template=INTEGRATION_TEMPLATE
    )
    sim.faults.old_time_stamps = True
    await sim.publisher.wait_link(connected=True)
    report = (await sim.emit_telegram())["report"]
    payload = json.loads((await subscriber.next()).payload)
    assert payload["ts"] == "${meter.date_time_utc}"  # unknown to old firmware: verbatim
    local = datetime.fromisoformat(report["date_time"].removesuffix("Z"))
    assert payload["t"] == int(local.replace(tzinfo=sim.state.zone).timestamp())


async def test_mqtt_glitch_exactly_one_message(simulator_factory, mosquitto):
    subscriber = await mosquitto.subscribe(DEFAULT_TOPIC)
    sim = await start_device(
        simulator_factory,
        mqtt_url=mosquitto.url,
        mqtt_template=INTEGRATION_TEMPLATE,
        profile="dlms-three",
    )
    await sim.publisher.wait_link(connected=True)
    publish_every_telegram(sim)
    sim.faults.energy_glitch = {"kind": "garbage", "value": -1, "paths": ["mqtt"]}
    first = (await sim.emit_telegram())["report"]
    bad = json.loads((await subscriber.next()).payload)
    second = (await sim.emit_telegram())["report"]
    good = json.loads((await subscriber.next()).payload)
    assert (bad["ei"], bad["eo"], bad["qei"], bad["qeo"]) == (-1, -1, -1, -1)
    assert bad["pi"] == first["instantaneous_power"]["active"]["positive"]["total"]
    assert good["ei"] == second["energy"]["active"]["positive"]["total"]
    assert good["qei"] == second["energy"]["reactive"]["positive"]["total"]
    assert sim.faults.energy_glitch is None


async def test_mqtt_glitch_waits_for_a_published_message(simulator_factory, mosquitto):
    """A telegram the cadence skips does not take the glitch; the next message does."""
    subscriber = await mosquitto.subscribe(DEFAULT_TOPIC)
    sim = await start_device(
        simulator_factory, mqtt_url=mosquitto.url, mqtt_template=INTEGRATION_TEMPLATE
    )
    await sim.publisher.wait_link(connected=True)
    await sim.emit_telegram()
    await subscriber.next()
    sim.faults.energy_glitch = {"kind": "zero", "registers": ["1_8_0"], "paths": ["mqtt"]}
    await sim.emit_telegram()  # within report_interval: not published
    await subscriber.expect_none(QUIET)
    assert sim.faults.energy_glitch is not None
    publish_every_telegram(sim)
    await sim.emit_telegram()
    payload = json.loads((await subscriber.next()).payload)
    assert payload["ei"] == 0
    assert payload["ei1"] == sim.state.report["report"]["energy"]["active"]["positive"]["t1"]
