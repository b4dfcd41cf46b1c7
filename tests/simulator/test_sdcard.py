"""The simulated SD card: CSV logging as the device does it, and the ``/sdcard/`` endpoints."""

from __future__ import annotations

import copy
import csv
from datetime import UTC, datetime, timedelta
import io
from typing import Any

import pytest

from simulator.sdcard import COLUMNS, HEADER, csv_row

# The header of the vendor's SD-card pages (docs/device-api.md §17).
DOCUMENTED = (
    "RID,TIME,MID,MSTAT,TARIFF,PF,EAP_T,EAP_T1,EAP_T2,EAN_T,EAN_T1,EAN_T2,ERP_T,ERP_T1,ERP_T2,"
    "ERN_T,ERN_T1,ERN_T2,ERII_T,ERII_T1,ERII_T2,ERIC_T,ERIC_T1,ERIC_T2,EREI_T,EREI_T1,EREI_T2,"
    "EREC_T,EREC_T1,EREC_T2,MDAP_T,MDAP_T1,MDAP_T2,MDAN_T,MDAN_T1,MDAN_T2,IPAP_T,IPAP_L1,IPAP_L2,"
    "IPAP_L3,IPAN_T,IPAN_L1,IPAN_L2,IPAN_L3,IPRP_T,IPRP_L1,IPRP_L2,IPRP_L3,IPRN_T,IPRN_L1,IPRN_L2,"
    "IPRN_L3,IPA_T,V_L1,V_L2,V_L3,I_L1,I_L2,I_L3,MIDENT,MMODEL,MIF,MPROT,RP"
)
T0 = datetime(2026, 1, 15, 23, 59, 30, tzinfo=UTC)


def at(report: dict[str, Any], moment: datetime) -> dict[str, Any]:
    """Return a copy of ``report`` stamped ``moment`` (UTC)."""
    stamped = copy.deepcopy(report)
    stamped["report"]["date_time_utc"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return stamped


def rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


async def test_logging_as_the_device_does(simulator_factory) -> None:
    """Off by default; on: a row at most every ``frequency`` s, one file per UTC date."""
    sim = await simulator_factory(telegram_interval=0, sd_card=True, profile="dlms-three")
    report = await sim.emit_telegram()
    assert sim.sdcard.files == {}
    assert not sim.sdcard.logging
    sim.state.settings["services"]["sd"] |= {"enable": True, "frequency": 15}
    for seconds in (0, 5, 15, 29, 30, 45):
        sim.sdcard.on_report(at(report, T0 + timedelta(seconds=seconds)))
    assert sorted(sim.sdcard.files) == ["20260115.CSV", "20260116.CSV"]
    first, second = sim.sdcard.files["20260115.CSV"], sim.sdcard.files["20260116.CSV"]
    assert bytes(first).startswith(HEADER.encode())
    assert ",".join(COLUMNS) == DOCUMENTED
    assert [row["TIME"] for row in rows(bytes(first))] == [
        "2026-01-15T23:59:30Z",
        "2026-01-15T23:59:45Z",
    ]
    assert [row["TIME"] for row in rows(bytes(second))] == [
        "2026-01-16T00:00:00Z",
        "2026-01-16T00:00:15Z",
    ]
    assert sim.sdcard.rows_written == 4


async def test_columns_quoting_and_empty_fields(simulator_factory) -> None:
    """Text quoted, numbers bare, what the meter does not supply empty; RP in milliseconds."""
    sim = await simulator_factory(telegram_interval=0, profile="p1-single")
    report = await sim.emit_telegram()
    assert report is not None
    report["meter"]["logical_name"] = 'ISK "5102", A'
    line = csv_row(report, T0)
    assert line.endswith("\r\n")
    (fields,) = csv.reader([line.strip()])
    row = dict(zip(COLUMNS, fields, strict=True))
    body = report["report"]
    assert row["RID"] == str(body["id"])
    assert row["TIME"] == "2026-01-15T23:59:30Z"
    assert row["MSTAT"] == "OK"
    assert row["MIDENT"] == 'ISK "5102", A'
    assert '"ISK ""5102"", A"' in line
    assert row["MIF"] == "P1"
    assert row["TARIFF"] == str(body["tariff"])
    assert row["EAP_T"] == str(body["energy"]["active"]["positive"]["total"])
    assert row["EAN_T2"] == str(body["energy"]["active"]["negative"]["t2"])
    assert row["RP"] == str(round(body["interval"] * 1000))
    for empty in ("PF", "ERP_T", "ERII_T", "MDAP_T", "IPRP_T", "IPA_T", "V_L2", "I_L3"):
        assert row[empty] == "", empty
    assert ",,," in line


async def test_telegrams_are_logged_and_survive_a_reboot(simulator_factory) -> None:
    """Every decoded report reaches the card; a reboot keeps the files (a card does)."""
    sim = await simulator_factory(telegram_interval=0, sd_card=True, reboot_downtime=0.01)
    sim.state.settings["services"]["sd"]["enable"] = True
    await sim.emit_telegram()
    assert sim.sdcard.rows_written == 1
    files = dict(sim.sdcard.files)
    await sim.reboot()
    assert sim.sdcard.files == files


async def test_endpoints(simulator_factory, session) -> None:
    """Listing, folders, download, delete; the card shows in ``/api/v1/system``."""
    sim = await simulator_factory(telegram_interval=0, sd_card=True)
    sim.sdcard.files["20260115.CSV"] = bytearray(HEADER.encode())
    sim.sdcard.files["SYSTEM~1/A.BIN"] = bytearray(b"1234")
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        assert (await resp.json())["sd_card"]["installed"] is True
    for path in ("/sdcard", "/sdcard/"):
        async with session.get(sim.url + path) as resp:
            assert resp.status == 200
            assert await resp.json() == {
                "path": "/sdcard/",
                "files": [
                    {"name": "20260115.CSV", "size": len(HEADER), "type": "file"},
                    {"name": "SYSTEM~1", "size": 0, "type": "dir"},
                ],
            }
    async with session.get(f"{sim.url}/sdcard/SYSTEM~1/") as resp:
        assert await resp.json() == {
            "path": "/sdcard/SYSTEM~1/",
            "files": [{"name": "A.BIN", "size": 4, "type": "file"}],
        }
    async with session.get(f"{sim.url}/sdcard/NOPE/") as resp:
        assert resp.status == 404
    async with session.get(f"{sim.url}/sdcard/20260115.csv") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/csv")
        assert await resp.read() == HEADER.encode()
    async with session.get(f"{sim.url}/sdcard/SYSTEM~1/A.BIN") as resp:
        assert resp.headers["Content-Type"] == "application/octet-stream"
    for path, status in (
        ("/sdcard/", 400),
        ("/sdcard/MISSING.CSV", 404),
        ("/sdcard/NOPE/", 404),
        ("/sdcard/20260115.CSV", 204),
        ("/sdcard/20260115.CSV", 404),
        ("/sdcard/SYSTEM~1/", 204),
    ):
        async with session.delete(sim.url + path) as resp:
            assert resp.status == status, path
    assert sim.sdcard.files == {}
    assert sim.sdcard.folders == set()


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/sdcard/"), ("GET", "/sdcard/A.CSV"), ("DELETE", "/sdcard/A.CSV")]
)
async def test_unmounted_answers_503(simulator_factory, session, method, path) -> None:
    sim = await simulator_factory(telegram_interval=0)
    async with session.request(method, sim.url + path) as resp:
        assert resp.status == 503
        assert (await resp.json())["error"] == "sd_not_mounted"
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        assert (await resp.json())["sd_card"] == {"installed": False}


async def test_auth_applies(simulator_factory, session) -> None:
    sim = await simulator_factory(telegram_interval=0, sd_card=True, auth="digest", password="pw12")
    async with session.get(f"{sim.url}/sdcard/") as resp:
        assert resp.status == 401


async def test_control(simulator_factory, session) -> None:
    """``/_sim/sdcard``: put a card in or out, empty it; bad bodies are refused."""
    sim = await simulator_factory(telegram_interval=0)
    url = f"{sim.url}/_sim/sdcard"
    async with session.post(url, json={"mounted": True}) as resp:
        assert await resp.json() == {"mounted": True, "logging": False, "files": {}}
    sim.sdcard.files["X.CSV"] = bytearray(b"12")
    async with session.get(url) as resp:
        assert (await resp.json())["files"] == {"X.CSV": 2}
    async with session.post(url, json={"clear": True, "mounted": False}) as resp:
        assert await resp.json() == {"mounted": False, "logging": False, "files": {}}
    for body in ([], {"mounted": "yes"}, {"clear": 1}):
        async with session.post(url, json=body) as resp:
            assert resp.status == 400
    async with session.post(url, data=b"{") as resp:
        assert resp.status == 400
