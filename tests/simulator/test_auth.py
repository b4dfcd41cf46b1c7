"""Authentication: none, Basic (old firmware) and Digest MD5-sess with stale nonces and replays."""

from __future__ import annotations

import base64
import json
import re

from .conftest import digest_header

CHALLENGE = re.compile(
    r'^Digest realm="(?P<realm>[^"]+)", qop="auth", algorithm=MD5-sess, '
    r'nonce="(?P<nonce>[0-9a-f]{32})", opaque="(?P<opaque>[0-9a-f]{32})"(?P<stale>, stale=true)?$'
)


async def _challenge(session, url, method="GET"):
    async with session.request(method, url) as resp:
        assert resp.status == 401
        body = await resp.json()
        assert body == {"error": "unauthorized", "message": "Authentication required"}
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        return resp.headers["WWW-Authenticate"]


async def test_no_protection_without_password(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    async with session.put(
        f"{sim.url}/api/v1/settings", data=json.dumps({"system": {"protection": True}})
    ) as resp:
        assert resp.status == 200
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        assert resp.status == 200  # protection on but no password: still open


async def test_password_flag_enables_digest(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, password="pw1", auth="digest")
    url = f"{sim.url}/api/v1/system"
    challenge = await _challenge(session, url)
    match = CHALLENGE.match(challenge)
    assert match, challenge
    assert match["realm"] == "whatwatt_D4E5F6"
    assert match["stale"] is None
    header = digest_header(challenge, "GET", "/api/v1/system", "pw1")
    async with session.get(url, headers={"Authorization": header}) as resp:
        assert resp.status == 200
        assert (await resp.json())["device"]["id"] == "A1B2C3D4E5F6"


async def test_digest_nc_sequence_query_and_replay(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, password="pw1")
    uri = "/api/v1/actions/status?id=3,4"
    challenge = await _challenge(session, sim.url + uri)
    cnonce = "0a4f113b"
    for nc in (1, 2):
        header = digest_header(challenge, "GET", uri, "pw1", nc=nc, cnonce=cnonce)
        async with session.get(sim.url + uri, headers={"Authorization": header}) as resp:
            assert resp.status == 200
            assert await resp.json() == []
    replay = digest_header(challenge, "GET", uri, "pw1", nc=2, cnonce=cnonce)
    async with session.get(sim.url + uri, headers={"Authorization": replay}) as resp:
        assert resp.status == 401
        assert "stale" not in resp.headers["WWW-Authenticate"]


async def test_digest_auth_int(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, password="pw1")
    uri = "/api/v1/settings"
    body = json.dumps({"system": {"name": "Garage"}}).encode()
    challenge = await _challenge(session, sim.url + uri, "PUT")
    header = digest_header(challenge, "PUT", uri, "pw1", qop="auth-int", body=body)
    async with session.put(sim.url + uri, data=body, headers={"Authorization": header}) as resp:
        assert resp.status == 200
        assert (await resp.json())["system"]["name"] == "Garage"
    # auth-int over a different body fails.
    header = digest_header(challenge, "PUT", uri, "pw1", qop="auth-int", body=b"{}", nc=2)
    async with session.put(sim.url + uri, data=body, headers={"Authorization": header}) as resp:
        assert resp.status == 401


async def test_wrong_password_and_user(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, password="pw1")
    uri = "/api/v1/system"
    challenge = await _challenge(session, sim.url + uri)
    for header in (
        digest_header(challenge, "GET", uri, "wrong"),
        digest_header(challenge, "GET", uri, "pw1", username="admin"),
        digest_header(challenge, "GET", "/api/v1/report", "pw1"),
    ):
        async with session.get(sim.url + uri, headers={"Authorization": header}) as resp:
            assert resp.status == 401
            assert "stale" not in resp.headers["WWW-Authenticate"]


async def test_stale_nonce(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, password="pw1", nonce_lifetime=10.0)
    now = [1000.0]
    sim.auth.clock = lambda: now[0]
    uri = "/api/v1/system"
    challenge = await _challenge(session, sim.url + uri)
    now[0] += 11.0  # the nonce is now expired
    header = digest_header(challenge, "GET", uri, "pw1")
    async with session.get(sim.url + uri, headers={"Authorization": header}) as resp:
        assert resp.status == 401
        fresh = resp.headers["WWW-Authenticate"]
    match = CHALLENGE.match(fresh)
    assert match
    assert match["stale"] == ", stale=true"
    header = digest_header(fresh, "GET", uri, "pw1")
    async with session.get(sim.url + uri, headers={"Authorization": header}) as resp:
        assert resp.status == 200
    # A wrong password with an expired nonce is not stale.
    now[0] += 11.0
    header = digest_header(fresh, "GET", uri, "bad", nc=2)
    async with session.get(sim.url + uri, headers={"Authorization": header}) as resp:
        assert resp.status == 401
        assert "stale" not in resp.headers["WWW-Authenticate"]


async def test_basic_auth_old_firmware(simulator_factory, session):
    sim = await simulator_factory(
        telegram_interval=0, password="pw1", auth="basic", firmware="1.9.2"
    )
    url = f"{sim.url}/api/v1/system"
    challenge = await _challenge(session, url)
    assert challenge == 'Basic realm="whatwatt_D4E5F6"'
    good = "Basic " + base64.b64encode(b":pw1").decode()
    bad = "Basic " + base64.b64encode(b"admin:pw1").decode()
    async with session.get(url, headers={"Authorization": good}) as resp:
        assert resp.status == 200
    async with session.get(url, headers={"Authorization": bad}) as resp:
        assert resp.status == 401


async def test_password_change_takes_effect_and_realm_follows_host_name(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    body = {"system": {"protection": True, "password": "newpw", "host_name": "garage"}}
    async with session.put(f"{sim.url}/api/v1/settings", data=json.dumps(body)) as resp:
        assert resp.status == 200
    challenge = await _challenge(session, f"{sim.url}/api/v1/report")
    assert 'realm="garage"' in challenge
    header = digest_header(challenge, "GET", "/api/v1/report", "newpw")
    async with session.get(f"{sim.url}/api/v1/report", headers={"Authorization": header}) as resp:
        assert resp.status == 200


async def test_control_endpoint_needs_no_auth(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, password="pw1")
    async with session.get(f"{sim.url}/_sim/faults") as resp:
        assert resp.status == 200
