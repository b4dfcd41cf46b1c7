"""Settings resources: PUT merge, POST replace, validation, 413, secrets."""

from __future__ import annotations

import json

JSON_HEADERS = ("application/json; charset=utf-8", "nosniff", "no-store")


async def _send(session, method, url, body):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    async with session.request(method, url, data=data) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_get_settings_defaults(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    async with session.get(f"{sim.url}/api/v1/settings") as resp:
        assert resp.status == 200
        headers = resp.headers
        assert (
            headers["Content-Type"],
            headers["X-Content-Type-Options"],
            headers["Cache-Control"],
        ) == JSON_HEADERS
        data = await resp.json()
    assert data["system"]["host_name"] == "whatwatt_D4E5F6"
    assert data["system"]["password_len"] == 0
    assert "password" not in data["system"]
    assert data["services"]["report_interval"] == 30
    assert data["services"]["cloud"] == {
        "what_watt": True,
        "solar_manager": False,
        "mystrom": True,
        "stromkonto": False,
    }


async def test_put_merges_nested_and_keeps_secret(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, auth="none", password="secret12")
    url = f"{sim.url}/api/v1/settings"
    status, data = await _send(
        session, "PUT", url, {"services": {"sd": {"frequency": 60}}, "unknown": 1}
    )
    assert status == 200
    assert data["services"]["sd"] == {"enable": False, "frequency": 60, "recorder_mode": False}
    assert data["services"]["report_interval"] == 30  # untouched
    assert data["system"]["password_len"] == 8  # stored secret survives, never shown
    assert sim.state.settings["system"]["password"] == "secret12"
    assert "unknown" not in data


async def test_post_replaces_with_empty_values(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    status, data = await _send(
        session, "POST", f"{sim.url}/api/v1/settings", {"system": {"name": "Plant A"}}
    )
    assert status == 200
    assert data["system"]["name"] == "Plant A"
    assert data["system"]["p1_wifi_boost"] is False  # omitted → false
    assert data["services"]["cloud"]["what_watt"] is False
    assert data["services"]["sd"]["enable"] is False
    assert data["services"]["report_interval"] == 30  # 0 is out of range: default
    assert data["system"]["host_name"] == "whatwatt_D4E5F6"


async def test_validation_errors(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    url = f"{sim.url}/api/v1/settings"
    bad_bodies = [
        {"services": {"report_interval": 0}},
        {"services": {"report_interval": 3601}},
        {"services": {"report_interval": "30"}},
        {"system": {"protection": "yes"}},
        {"system": {"name": "x" * 32}},
        {"system": {"host_name": "bad host!"}},
        {"services": {"berry": {"run_delay": 59}}},
        {"system": "not an object"},
        [1, 2],
    ]
    for body in bad_bodies:
        status, data = await _send(session, "PUT", url, body)
        assert status == 400, body
        assert set(data) >= {"error", "message"}
    status, data = await _send(session, "PUT", url, b"{not json")
    assert status == 400
    assert data["error"] == "invalid_json"
    # Nothing of the rejected writes stuck.
    assert sim.state.settings["services"]["report_interval"] == 30


async def test_body_too_large(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    big = json.dumps({"system": {"name": "a"}, "pad": "x" * 9000})
    for path in ("/api/v1/settings", "/api/v1/mqtt/settings", "/api/v1/meter/settings"):
        status, data = await _send(session, "PUT", sim.url + path, big)
        assert status == 413
        assert data["error"] == "payload_too_large"


async def test_power_save_refused_with_ethernet_up(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, ethernet_up=True)
    status, _ = await _send(
        session, "PUT", f"{sim.url}/api/v1/settings", {"system": {"power_save": True}}
    )
    assert status == 400
    sim2 = await simulator_factory(telegram_interval=0)
    status, data = await _send(
        session, "PUT", f"{sim2.url}/api/v1/settings", {"system": {"power_save": True}}
    )
    assert status == 200
    assert data["system"]["power_save"] is True


async def test_invalid_ntp_server_is_dropped(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    body = {"system": {"custom_ntp_server": "bad server!", "use_custom_ntp_server": True}}
    status, data = await _send(session, "PUT", f"{sim.url}/api/v1/settings", body)
    assert status == 200
    assert data["system"]["custom_ntp_server"] == ""
    assert data["system"]["use_custom_ntp_server"] is False


async def test_mqtt_settings_secrets_and_null(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    url = f"{sim.url}/api/v1/mqtt/settings"
    body = {
        "enable": True,
        "url": "mqtts://127.0.0.1:8883",
        "password": "pw123",
        "publish": {"topic": "home/ww", "template": '{"p": ${1_7_0}}'},
        "broker": {"certificate": "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----"},
        "client": {"key": "KEYDATA", "key_password": "kp"},
    }
    status, data = await _send(session, "PUT", url, body)
    assert status == 200
    assert data["password_len"] == 5
    assert data["broker"]["certificate"].startswith("-----BEGIN")
    assert data["client"] == {"key_len": 7, "key_password_len": 2}
    assert "password" not in data
    # PUT keeps secrets unless overridden; null deletes certificates and keys.
    status, data = await _send(
        session, "PUT", url, {"broker": {"certificate": None}, "client": {"key": None}}
    )
    assert status == 200
    assert data["password_len"] == 5
    assert "broker" not in data
    assert data["client"] == {"key_password_len": 2}
    assert sim.state.mqtt_settings["client"]["key"] is None
    # Validation.
    for bad in (
        {"url": "http://broker"},
        {"publish": {"template": "x" * 1024}},
        {"client_id": "c" * 64},
    ):
        status, _ = await _send(session, "PUT", url, bad)
        assert status == 400, bad
    # POST replaces everything.
    status, data = await _send(session, "POST", url, {"enable": True})
    assert status == 200
    assert data == {
        "enable": True,
        "url": "",
        "username": "",
        "password_len": 0,
        "client_id": "",
        "skip_cn_check": False,
        "publish": {"topic": "", "template": ""},
    }


async def test_meter_settings(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    url = f"{sim.url}/api/v1/meter/settings"
    status, data = await _send(
        session,
        "PUT",
        url,
        {"baudrate": 9600, "encryption_key": "00112233445566778899AABBCCDDEEFF"},
    )
    assert status == 200
    assert data["baudrate"] == 9600
    assert "encryption_key" not in data
    assert not any(k.endswith("_len") for k in data)
    assert sim.state.meter_settings["encryption_key"] == "00112233445566778899AABBCCDDEEFF"
    for bad in ({"parity": "mark"}, {"baudrate": 200}, {"encryption_key": "xyz"}):
        status, _ = await _send(session, "PUT", url, bad)
        assert status == 400, bad
    status, data = await _send(session, "POST", url, {"parity": "even"})
    assert status == 200
    assert data["parity"] == "even"
    assert data["baudrate"] == 115200  # omitted → factory default
    assert data["if_type"] == "auto"
