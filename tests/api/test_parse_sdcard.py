"""The SD-card parsers: the listing and the daily CSV files, streamed and tolerant."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from custom_components.whatwatt.api.errors import WhatwattInvalidResponseError
from custom_components.whatwatt.api.models import MeterInfo
from custom_components.whatwatt.api.parse_sdcard import (
    MAX_LINE_BYTES,
    SdCsvReader,
    SdFile,
    daily_file_name,
    file_day,
    parse_sdcard_listing,
)

from .helpers import assert_values

HEADER = (
    "RID,TIME,MID,MSTAT,TARIFF,PF,EAP_T,EAP_T1,EAP_T2,EAN_T,EAN_T1,EAN_T2,ERP_T,ERP_T1,ERP_T2,"
    "ERN_T,ERN_T1,ERN_T2,ERII_T,ERII_T1,ERII_T2,ERIC_T,ERIC_T1,ERIC_T2,EREI_T,EREI_T1,EREI_T2,"
    "EREC_T,EREC_T1,EREC_T2,MDAP_T,MDAP_T1,MDAP_T2,MDAN_T,MDAN_T1,MDAN_T2,IPAP_T,IPAP_L1,IPAP_L2,"
    "IPAP_L3,IPAN_T,IPAN_L1,IPAN_L2,IPAN_L3,IPRP_T,IPRP_L1,IPRP_L2,IPRP_L3,IPRN_T,IPRN_L1,IPRN_L2,"
    "IPRN_L3,IPA_T,V_L1,V_L2,V_L3,I_L1,I_L2,I_L3,MIDENT,MMODEL,MIF,MPROT,RP"
)
# The vendor's sample row (docs/device-api.md, "SD card").
VENDOR_ROW = (
    '3093,"2025-10-07T20:21:11Z","","OK",2,,75.133,,,25.414,,,82.328,,,19.481,,,,,,,,,,,,,,,,,,,,,'
    '0,0,0,0,0,0,0,0,,0,0,0,,0,0,0,,234,0,0,0,0,0,"LGZ1030784855204","","MBUS","DLMS",6818'
)


def read(data: bytes, chunk: int | None = None, **bounds: datetime) -> tuple[list, SdCsvReader]:
    reader = SdCsvReader(**bounds)
    reports = []
    step = chunk or len(data) or 1
    for start in range(0, len(data), step):
        reports += reader.feed(data[start : start + step])
    reports += reader.close()
    return reports, reader


def test_vendor_sample_row() -> None:
    """The documented row: values where given, empty fields absent, RP in milliseconds."""
    (report,), reader = read(f"{HEADER}\r\n{VENDOR_ROW}\r\n".encode())
    assert reader.rows == 1
    assert reader.skipped == 0
    assert report.timestamp == datetime(2025, 10, 7, 20, 21, 11, tzinfo=UTC)
    assert report.report_id == 3093
    assert report.tariff == 2
    assert report.interval == pytest.approx(6.818)
    assert_values(
        report.values,
        {
            "energy_import": 75.133,
            "energy_export": 25.414,
            "reactive_energy_import": 82.328,
            "reactive_energy_export": 19.481,
            "voltage_l1": 234,
            "power_import": 0,
        },
    )
    for absent in ("energy_import_t1", "energy_import_t2", "power_factor", "apparent_power"):
        assert absent not in report.values
    assert report.meter is not None
    assert report.meter.status == "OK"
    assert report.meter.serial == "LGZ1030784855204"
    assert report.meter.meter_id is None  # an empty quoted text
    assert report.meter.interface == "MBUS"
    assert report.meter.protocol == "DLMS"


@pytest.mark.parametrize("chunk", [1, 7, 64, None])
def test_chunks_do_not_matter(chunk: int | None) -> None:
    """The same rows whatever the chunk boundaries (lines split anywhere, CRLF split too)."""
    rows = "".join(
        f'{n},"2026-01-15T10:{n:02d}:00Z","","OK",1,,{5000 + n / 1000},,,1.5,,,,,,,,\r\n'
        for n in range(30)
    )
    data = f"\ufeff{HEADER}\r\n{rows}".encode()
    reports, reader = read(data, chunk)
    assert [r.report_id for r in reports] == list(range(30))
    assert reports[-1].values["energy_import"] == pytest.approx(5000.029)
    assert reader.skipped == 0


@pytest.mark.parametrize(
    ("data", "values", "serial"),
    [
        pytest.param(
            b'RID,TIME,NEWCOL,EAP_T,MIDENT,MSTAT\n1,"2026-01-15T10:00:00Z","x, ""y""",12.5,"a, b"\n'
            b'2,"2026-01-15T10:00:15Z",,13\n',
            [{"energy_import": 12.5}, {"energy_import": 13.0}],
            "a, b",
            id="quotes_unknown_and_missing_columns",
        ),
        pytest.param(
            b'RID,TIME,EAP_T\n1,"2026-01-15T10:00:00Z",5\n'
            b'RID,TIME,EAN_T,EAP_T\n2,"2026-01-15T10:00:15Z",1,6\n',
            [{"energy_import": 5.0}, {"energy_export": 1.0, "energy_import": 6.0}],
            None,
            id="a_repeated_header_starts_over",
        ),
    ],
)
def test_columns_follow_the_header(data: bytes, values: list[dict], serial: str | None) -> None:
    """Each row read by the header before it: quoted commas and quotes, a new column, columns
    missing from short rows, and a header written again (after a restart) with other columns.
    """
    reports, reader = read(data)
    assert [r.values for r in reports] == values
    assert reports[0].meter == MeterInfo(serial=serial)  # no status where none is given
    assert reader.skipped == 0


def test_bad_rows_are_skipped() -> None:
    """Rows before a header, broken quotes, no usable time, non-numbers: skipped or rejected."""
    data = (
        b'1,"2026-01-15T10:00:00Z",5\n'  # before the header
        b"RID,TIME,EAP_T,TARIFF\n"
        b'2,"2026-01-15T10:00:15Z,6\n'  # an unclosed quote
        b'3,"2026-01-15 10:00:30",7\n'  # no zone: not the documented UTC time
        b"4,,8\n"  # no time
        b'5,"2026-01-15T10:00:45Z",null,0\n'  # a value that is no number, tariff unknown
        b'6,"2026-01-15T10:01:00Z",9.5,2'  # the last line without a line end
    )
    reports, reader = read(data)
    assert [r.report_id for r in reports] == [5, 6]
    assert reports[0].values == {}
    assert reports[0].rejected == ("energy_import",)
    assert reports[0].tariff is None
    assert reports[1].values == {"energy_import": 9.5}
    assert reader.skipped == 4


def test_long_lines_are_dropped_memory_stays_bounded() -> None:
    """A line longer than MAX_LINE_BYTES is dropped, however it arrives."""
    long_line = b"9," + b"x" * (MAX_LINE_BYTES * 3) + b"\n"
    data = b'RID,TIME,EAP_T\n1,"2026-01-15T10:00:00Z",5\n' + long_line
    data += b'2,"2026-01-15T10:00:15Z",6\n'
    reader = SdCsvReader()
    reports = []
    for start in range(0, len(data), 1000):
        reports += reader.feed(data[start : start + 1000])
        assert len(reader._buffer) <= MAX_LINE_BYTES
    reports += reader.close()
    assert [r.report_id for r in reports] == [1, 2]
    assert reader.skipped == 1
    # A file ending in the middle of an overlong line.
    reader = SdCsvReader()
    assert reader.feed(b"RID,TIME\n" + b"y" * (MAX_LINE_BYTES + 1)) == []
    assert reader.close() == []


def test_time_bounds() -> None:
    """Rows before ``start`` are skipped, rows after ``end`` too, and ``past_end`` says so."""
    rows = "".join(f'{n},"2026-01-15T1{n}:00:00Z",{n}\n' for n in range(6))
    data = f"RID,TIME,EAP_T\n{rows}".encode()
    reports, reader = read(
        data,
        start=datetime(2026, 1, 15, 11, tzinfo=UTC),
        end=datetime(2026, 1, 15, 13, tzinfo=UTC),
    )
    assert [r.report_id for r in reports] == [1, 2, 3]
    assert reader.past_end


def test_listing() -> None:
    """Files and folders (by type or a trailing slash); unusable entries left out."""
    listing = parse_sdcard_listing(
        {
            "path": "/sdcard/",
            "files": [
                {"name": "20260115.CSV", "size": 512000, "type": "file"},
                {"name": "LOGS", "size": 0, "type": "dir"},
                {"name": "data/", "size": 0},
                {"name": "notes.txt", "size": "x"},
                {"name": ""},
                "junk",
            ],
        }
    )
    assert listing == (
        SdFile("20260115.CSV", 512000),
        SdFile("LOGS", 0, is_dir=True),
        SdFile("data", 0, is_dir=True),
        SdFile("notes.txt", 0),
    )
    assert listing[0].day == date(2026, 1, 15)
    assert listing[1].day is None
    assert listing[3].day is None
    with pytest.raises(WhatwattInvalidResponseError):
        parse_sdcard_listing({"path": "/sdcard/"})
    with pytest.raises(WhatwattInvalidResponseError):
        parse_sdcard_listing([])


def test_file_names() -> None:
    assert daily_file_name(date(2026, 1, 5)) == "20260105.CSV"
    assert file_day("20260105.csv") == date(2026, 1, 5)
    assert file_day("20261305.CSV") is None
    assert file_day("2026010.CSV") is None
