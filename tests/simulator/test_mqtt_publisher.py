"""The simulator publishes its MQTT template through a real mosquitto broker."""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.whatwatt.api.parse_mqtt import parse_mqtt_payload
from custom_components.whatwatt.api.parse_report import parse_report
from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE
from simulator.mqtt import is_loopback

pytestmark = pytest.mark.mosquitto

TOPIC = "whatwatt/A1B2C3D4E5F6"
QUIET = 0.5  # seconds to wait for a message that must not come


async def start_device(simulator_factory, mosquitto, **kwargs):
    kwargs.setdefault("mqtt_url", mosquitto.url)
    kwargs.setdefault("auth", "none")
    kwargs.setdefault("telegram_interval", 0)
    kwargs.setdefault("report_interval", 1)
    kwargs.setdefault("mqtt_topic", TOPIC)
    kwargs.setdefault("mqtt_template", INTEGRATION_TEMPLATE)
    return await simulator_factory(**kwargs)


async def get_json(url: str):
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        return await response.json()


async def put_json(url: str, body: dict) -> None:
    async with aiohttp.ClientSession() as session, session.put(url, json=body) as response:
        assert response.status == 200, await response.text()


async def test_publishes_own_template_that_parses(simulator_factory, mosquitto) -> None:
    subscriber = await mosquitto.subscribe("whatwatt/#")
    sim = await start_device(simulator_factory, mosquitto, profile="dlms-three")
    await sim.publisher.wait_link(connected=True)
    system = await get_json(f"{sim.url}/api/v1/system")
    assert system["clouds"]["mqtc"] == {"enabled": True, "connected": True}

    report_json = await sim.emit_telegram()
    message = await subscriber.next()
    assert message.topic == TOPIC
    report = parse_mqtt_payload(message.payload)
    expected = parse_report(report_json)
    assert report.device_id == "A1B2C3D4E5F6"
    assert report.values == expected.values
    assert report.values["voltage_l1"] == report_json["report"]["voltage"]["l1"]
    assert report.timestamp == expected.timestamp
    assert report.meter is not None
    assert report.meter.status == "OK"
    assert report.rejected == ()
    assert sim.publisher.published == 1


async def test_vendor_style_template_is_rendered_verbatim(simulator_factory, mosquitto) -> None:
    template = (
        '{"sys_id":"${sys.id}","meter_id":"${meter.id}","time":"${timestamp}",'
        '"power_in":"${1_7_0}","energy_in":"${1_8_0}","voltage_l1":"${32_7_0}",'
        '"tariff":"${tariff}","power_factor":"${13_7_0}"}'
    )
    subscriber = await mosquitto.subscribe(TOPIC)
    sim = await start_device(simulator_factory, mosquitto, mqtt_template=template)
    await sim.publisher.wait_link(connected=True)
    report_json = await sim.emit_telegram()
    report = parse_mqtt_payload((await subscriber.next()).payload)
    body = report_json["report"]
    assert report.device_id == "A1B2C3D4E5F6"
    assert (
        report.values["power_import"] == body["instantaneous_power"]["active"]["positive"]["total"]
    )
    assert report.values["energy_import"] == body["energy"]["active"]["positive"]["total"]
    assert report.tariff == body["tariff"]
    assert report.timestamp == parse_report(report_json).timestamp
    assert report.rejected == ("power_factor",)  # P1 single-phase has no power factor: "null"


async def test_cadence_follows_report_interval(simulator_factory, mosquitto) -> None:
    subscriber = await mosquitto.subscribe(TOPIC)
    sim = await start_device(simulator_factory, mosquitto, report_interval=3600)
    await sim.publisher.wait_link(connected=True)
    await sim.emit_telegram()
    await subscriber.next()
    await sim.emit_telegram()
    await sim.emit_telegram()
    await subscriber.expect_none(QUIET)
    assert sim.publisher.published == 1


async def test_not_published_when_disabled(simulator_factory, mosquitto) -> None:
    subscriber = await mosquitto.subscribe(TOPIC)
    sim = await start_device(simulator_factory, mosquitto)
    await sim.publisher.wait_link(connected=True)
    await put_json(f"{sim.url}/api/v1/mqtt/settings", {"enable": False})
    await sim.publisher.wait_link(connected=False)
    system = await get_json(f"{sim.url}/api/v1/system")
    assert system["clouds"]["mqtc"] == {"enabled": False, "connected": False}
    await sim.emit_telegram()
    await subscriber.expect_none(QUIET)
    assert sim.publisher.published == 0
    # and enabling again publishes at once (the device reconnects after the write)
    await put_json(f"{sim.url}/api/v1/mqtt/settings", {"enable": True})
    await sim.publisher.wait_link(connected=True)
    await sim.emit_telegram()
    assert parse_mqtt_payload((await subscriber.next()).payload).device_id == "A1B2C3D4E5F6"


async def test_not_published_on_free_licence(simulator_factory, mosquitto) -> None:
    subscriber = await mosquitto.subscribe(TOPIC)
    sim = await start_device(simulator_factory, mosquitto, license="free")
    await sim.emit_telegram()
    await subscriber.expect_none(QUIET)
    assert not sim.publisher.connected
    assert sim.publisher.connects == 0
    sim.set_license("plus")
    await sim.publisher.wait_link(connected=True)
    await sim.emit_telegram()
    await subscriber.next()
    assert sim.publisher.published == 1


async def test_not_published_when_meter_not_connected(simulator_factory, mosquitto) -> None:
    subscriber = await mosquitto.subscribe(TOPIC)
    sim = await start_device(simulator_factory, mosquitto)
    await sim.publisher.wait_link(connected=True)
    sim.faults.meter_not_connected = True
    assert await sim.emit_telegram() is None
    await subscriber.expect_none(QUIET)
    assert sim.publisher.published == 0
    sim.faults.meter_not_connected = False
    await sim.emit_telegram()
    await subscriber.next()


async def test_not_published_with_empty_template(simulator_factory, mosquitto) -> None:
    subscriber = await mosquitto.subscribe(TOPIC)
    sim = await start_device(simulator_factory, mosquitto)
    await sim.publisher.wait_link(connected=True)
    await put_json(f"{sim.url}/api/v1/mqtt/settings", {"publish": {"template": ""}})
    await sim.publisher.wait_link(connected=True, min_connects=2)
    await sim.emit_telegram()
    await subscriber.expect_none(QUIET)


async def test_topic_change_reconnects_and_moves(simulator_factory, mosquitto) -> None:
    subscriber = await mosquitto.subscribe("#")
    sim = await start_device(simulator_factory, mosquitto)
    await sim.publisher.wait_link(connected=True)
    await put_json(f"{sim.url}/api/v1/mqtt/settings", {"publish": {"topic": "elsewhere/meter"}})
    await sim.publisher.wait_link(connected=True, min_connects=2)
    await sim.emit_telegram()
    message = await subscriber.next()
    assert message.topic == "elsewhere/meter"


async def test_reconnects_after_broker_restart(simulator_factory, mosquitto) -> None:
    sim = await start_device(simulator_factory, mosquitto)
    await sim.publisher.wait_link(connected=True)
    mosquitto.restart()
    await sim.publisher.wait_link(connected=True, min_connects=2)
    system = await get_json(f"{sim.url}/api/v1/system")
    assert system["clouds"]["mqtc"]["connected"] is True
    subscriber = await mosquitto.subscribe(TOPIC, client_id="after-restart")
    await sim.emit_telegram()
    assert parse_mqtt_payload((await subscriber.next()).payload).values


async def test_link_down_while_broker_is_gone(simulator_factory, mosquitto) -> None:
    sim = await start_device(simulator_factory, mosquitto)
    await sim.publisher.wait_link(connected=True)
    mosquitto.stop()
    await sim.publisher.wait_link(connected=False)
    system = await get_json(f"{sim.url}/api/v1/system")
    assert system["clouds"]["mqtc"] == {"enabled": True, "connected": False}
    await sim.emit_telegram()  # nothing to publish to: must not raise
    mosquitto.start()
    await sim.publisher.wait_link(connected=True, min_connects=2)


async def test_refused_connection_keeps_link_down(simulator_factory, mosquitto) -> None:
    mosquitto.set_allow_anonymous(False)
    mosquitto.restart()
    sim = await start_device(simulator_factory, mosquitto)
    await sim.publisher.wait_for(lambda: sim.publisher.failures >= 1)
    assert "return code 5" in (sim.publisher.last_error or "")
    assert sim.publisher.connects == 0
    await sim.emit_telegram()
    assert sim.publisher.published == 0
    system = await get_json(f"{sim.url}/api/v1/system")
    assert system["clouds"]["mqtc"] == {"enabled": True, "connected": False}
    mosquitto.set_allow_anonymous(True)
    mosquitto.restart()
    await sim.publisher.wait_link(connected=True, limit=15)


async def test_unusable_url_never_connects(simulator_factory, mosquitto) -> None:
    sim = await start_device(simulator_factory, mosquitto)
    await sim.publisher.wait_link(connected=True)
    sim.state.mqtt_settings["url"] = "http://127.0.0.1:1"
    sim.publisher.settings_changed()
    await sim.publisher.wait_link(connected=False)
    await sim.emit_telegram()
    assert sim.publisher.published == 0
    assert sim.publisher.failures == 0


async def test_mqtts_with_broker_certificate(simulator_factory, mosquitto) -> None:
    ca_pem = mosquitto.enable_tls()
    mosquitto.restart()
    subscriber = await mosquitto.subscribe(TOPIC)  # plain listener, same broker
    sim = await start_device(simulator_factory, mosquitto)
    await sim.publisher.wait_link(connected=True)
    await put_json(
        f"{sim.url}/api/v1/mqtt/settings",
        {"url": mosquitto.tls_url, "broker": {"certificate": ca_pem}},
    )
    await sim.publisher.wait_link(connected=True, min_connects=2)
    await sim.emit_telegram()
    report = parse_mqtt_payload((await subscriber.next()).payload)
    assert report.device_id == "A1B2C3D4E5F6"


async def test_mqtts_with_unknown_ca_fails(simulator_factory, mosquitto) -> None:
    mosquitto.enable_tls()
    mosquitto.restart()
    sim = await start_device(simulator_factory, mosquitto, mqtt_url=None)
    sim.state.mqtt_settings.update(
        {"enable": True, "url": mosquitto.tls_url, "publish": {"topic": TOPIC, "template": "{}"}}
    )
    sim.publisher.settings_changed()
    await sim.publisher.wait_for(lambda: sim.publisher.failures >= 1)
    assert "CERTIFICATE_VERIFY_FAILED" in (sim.publisher.last_error or "")
    assert sim.publisher.connects == 0


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.3.4.5", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("192.168.1.10", False),
        ("core-mosquitto", False),
        ("example.org", False),
    ],
)
def test_only_loopback_brokers_are_dialled(host: str, expected: bool) -> None:
    """The simulated device reaches brokers on this machine's loopback only."""
    assert is_loopback(host) is expected
