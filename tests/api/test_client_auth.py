"""Digest (MD5-sess, stale nonce) and Basic authentication against the simulator."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.whatwatt.api import WhatwattAuthError, WhatwattClient


def statuses(sim) -> list[int]:
    return [record.status for record in sim.requests]


async def test_digest_steady_state_costs_one_request(simulator_factory, session) -> None:
    sim = await simulator_factory(auth="digest", password="s3cret", telegram_interval=0)
    await sim.emit_telegram()
    client = WhatwattClient(session, sim.host, "s3cret")
    assert (await client.get_system()).device_id == "A1B2C3D4E5F6"
    assert statuses(sim) == [401, 200]
    assert client.requests_sent == 2
    for _ in range(5):
        report = await client.get_report()
        assert report.values["power_import"] >= 0
    assert client.requests_sent == 7
    assert len(sim.requests) == 7
    assert statuses(sim)[2:] == [200] * 5
    assert client._auth.nonce_count == 6  # one nonce, nc 1..6


async def test_digest_signs_bodies_and_queries(simulator_factory, session) -> None:
    sim = await simulator_factory(auth="digest", password="pw", telegram_interval=0)
    client = WhatwattClient(session, sim.host, "pw")
    settings = await client.update_settings({"system": {"name": "Garage"}})
    assert settings.name == "Garage"
    sim.state.actions = {
        "actions": [
            {
                "id": "a b",
                "requests": [
                    {"modbus": {"host": "192.0.2.9", "func": 6, "address": 0, "value": "1"}}
                ],
            }
        ]
    }
    ids = await client.call_action("a b")
    statuses_seen = await client.get_action_status(ids)
    assert [s.status_id for s in statuses_seen] == ids
    await asyncio.wait_for(sim.actions.idle.wait(), 10)
    assert statuses(sim) == [401, 200, 202, 200]
    assert sim.requests[2].path == "/api/v1/actions/call"


@pytest.mark.parametrize("qop", ["auth,auth-int", "auth-int"])
async def test_digest_qop_variants(simulator_factory, session, qop) -> None:
    sim = await simulator_factory(auth="digest", password="pw", digest_qop=qop, telegram_interval=0)
    client = WhatwattClient(session, sim.host, "pw")
    updated = await client.update_meter_settings({"baudrate": 2400})
    assert updated["baudrate"] == 2400
    assert (await client.update_meter_settings({"baudrate": 4800}))["baudrate"] == 4800
    assert statuses(sim) == [401, 200, 200]
    assert client._auth._qop == ("auth" if qop == "auth,auth-int" else "auth-int")


async def test_stale_nonce_is_retried_once(simulator_factory, session) -> None:
    sim = await simulator_factory(
        auth="digest", password="pw", nonce_lifetime=10.0, telegram_interval=0
    )
    now = [1000.0]
    sim.auth.clock = lambda: now[0]  # the device's clock, moved by the test (no load race)
    client = WhatwattClient(session, sim.host, "pw")
    await client.get_system()
    await client.get_system()
    assert client._auth.nonce_count == 2
    old_cnonce = client._auth._cnonce
    now[0] += 11.0  # the nonce is now expired on the device
    await client.get_system()
    assert statuses(sim) == [401, 200, 200, 401, 200]
    assert client._auth.nonce_count == 1  # new nonce: nc restarted at 00000001
    assert client._auth._cnonce != old_cnonce
    await client.get_settings()
    assert client.requests_sent == len(sim.requests) == 6


async def test_wrong_password(simulator_factory, session) -> None:
    sim = await simulator_factory(auth="digest", password="right", telegram_interval=0)
    client = WhatwattClient(session, sim.host, "wrong")
    with pytest.raises(WhatwattAuthError, match="rejected the password"):
        await client.get_system()
    assert statuses(sim) == [401, 401]
    good = WhatwattClient(session, sim.host, "right")
    await good.get_system()
    # the device password changes while a client holds a valid nonce
    sim.state.settings["system"]["password"] = "changed"
    with pytest.raises(WhatwattAuthError):
        await good.get_system()
    assert statuses(sim)[-2:] == [401, 401]
    assert good.requests_sent == 4


async def test_missing_password(simulator_factory, session) -> None:
    sim = await simulator_factory(auth="digest", password="pw", telegram_interval=0)
    client = WhatwattClient(session, sim.host)
    with pytest.raises(WhatwattAuthError, match="requires a password"):
        await client.get_system()
    assert client.requests_sent == len(sim.requests) == 1


async def test_basic_on_old_firmware(simulator_factory, session) -> None:
    sim = await simulator_factory(
        auth="basic", password="pw", firmware="1.9.4", telegram_interval=0
    )
    client = WhatwattClient(session, sim.host, "pw")
    info = await client.get_system()
    assert info.firmware == "1.9.4"
    assert client._auth.scheme == "basic"
    await client.get_settings()
    await client.get_mqtt_settings()
    assert statuses(sim) == [401, 200, 200, 200]  # Basic is sent preemptively once known
    wrong = WhatwattClient(session, sim.host, "nope")
    with pytest.raises(WhatwattAuthError):
        await wrong.get_system()
    assert statuses(sim)[-2:] == [401, 401]


async def test_password_for_an_unprotected_device(simulator_factory, session) -> None:
    sim = await simulator_factory(auth="none", telegram_interval=0)
    client = WhatwattClient(session, sim.host, "unused")
    await client.get_system()
    await client.get_settings()
    assert statuses(sim) == [200, 200]
    assert client._auth.scheme is None


async def test_nonce_forgotten_after_reboot(simulator_factory, session) -> None:
    sim = await simulator_factory(
        auth="digest", password="pw", reboot_downtime=0.1, telegram_interval=0
    )
    client = WhatwattClient(session, sim.host, "pw")
    await client.get_system()
    await sim.reboot(downtime=0.1)
    await client.get_system()
    assert statuses(sim) == [401, 200, 401, 200]


async def test_concurrent_calls_share_one_nonce(simulator_factory, session) -> None:
    sim = await simulator_factory(auth="digest", password="pw", telegram_interval=0)
    client = WhatwattClient(session, sim.host, "pw")
    results = await asyncio.gather(*(client.get_system() for _ in range(8)))
    assert {info.device_id for info in results} == {"A1B2C3D4E5F6"}
    assert statuses(sim) == [401] + [200] * 8


async def test_a_stale_answer_to_the_fresh_challenge_is_no_refusal(simulator_factory, session):
    """The device restarts between its challenge and the answer (it forgets the nonce): the
    second 401 says ``stale``, so the request is signed once more instead of failing."""
    sim = await simulator_factory(auth="digest", password="pw", telegram_interval=0)
    client = WhatwattClient(session, sim.host, "pw")
    await client.get_system()
    challenge = sim.auth.challenge

    def challenge_then_restart(realm: str, *, stale: bool = False) -> str:
        value = challenge(realm, stale=stale)
        sim.auth.challenge = challenge  # once
        sim.auth.reset()  # the nonce just issued is forgotten, as by a reboot
        return value

    sim.auth.reset()
    sim.auth.challenge = challenge_then_restart
    assert (await client.get_system()).device_id == "A1B2C3D4E5F6"
    assert statuses(sim) == [401, 200, 401, 401, 200]


async def test_stale_again_and_again_is_a_refusal(simulator_factory, session):
    """Every nonce expires at once: two stale answers in a row, then the call gives up."""
    sim = await simulator_factory(
        auth="digest", password="pw", nonce_lifetime=-1.0, telegram_interval=0
    )
    client = WhatwattClient(session, sim.host, "pw")
    with pytest.raises(WhatwattAuthError, match="rejected the password"):
        await client.get_system()
    assert statuses(sim) == [401, 401, 401]


async def test_after_a_refusal_the_next_call_is_signed_with_a_fresh_nonce(
    simulator_factory, session
):
    """The challenge of the refusing 401 is kept: once the password works again, one try of
    it is one request."""
    sim = await simulator_factory(auth="digest", password="pw", telegram_interval=0)
    client = WhatwattClient(session, sim.host, "pw")
    await client.get_system()
    sim.faults.wrong_password = True
    with pytest.raises(WhatwattAuthError, match="rejected the password"):
        await client.get_system()
    assert statuses(sim)[2:] == [401, 401]  # refused, confirmed with the fresh challenge
    sim.faults.wrong_password = False
    await client.get_system()
    assert statuses(sim)[4:] == [200]
