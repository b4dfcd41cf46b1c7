"""Parsers for the SD card: its listing (``GET /sdcard/``) and the daily CSV log files.

The device logs one row per written report to ``/sdcard/YYYYMMDD.CSV`` (docs/device-api.md §17 and
"SD card"): a header line naming the columns, then comma-separated rows; text quoted (``""`` for a
quote inside), numbers bare, an empty field for a value the meter does not supply. Newer firmware
may add columns (ignored here) and older rows may lack some (simply absent).

``SdCsvReader`` decodes such a file incrementally, as the chunks of a download arrive: memory stays
bounded by the longest line it keeps (``MAX_LINE_BYTES``; a longer line is dropped, and so is a
row that cannot be parsed). Each row becomes a ``Report``: ``values`` under the measurement keys
of ``CSV_COLUMNS`` (kWh, kW, kvar, V, A as in the REST report; outside its quantity's range a
value is rejected, as in every parser), ``timestamp`` from ``TIME`` (UTC, ``Z``), ``report_id``
from ``RID``, ``interval`` from ``RP`` (milliseconds, within the device's range), the meter's
status, interface, protocol, model and identification in ``meter``. Rows outside
``start``..``end`` are skipped; ``past_end`` tells the caller that the (chronological) file has
gone beyond ``end``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
import re
from typing import TYPE_CHECKING, Any, Final

from .errors import WhatwattInvalidResponseError
from .models import MeterInfo, Report
from .parse_common import (
    as_float,
    as_int,
    as_interval,
    as_text,
    in_range,
    parse_iso_time,
    require_object,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

# Column → measurement key (the contract keys, docs/architecture.md "Contracts").
CSV_COLUMNS: Final[Mapping[str, str]] = {
    "EAP_T": "energy_import",
    "EAP_T1": "energy_import_t1",
    "EAP_T2": "energy_import_t2",
    "EAN_T": "energy_export",
    "EAN_T1": "energy_export_t1",
    "EAN_T2": "energy_export_t2",
    "ERP_T": "reactive_energy_import",
    "ERN_T": "reactive_energy_export",
    "MDAP_T": "max_demand_import",
    "MDAN_T": "max_demand_export",
    "IPAP_T": "power_import",
    "IPAP_L1": "power_import_l1",
    "IPAP_L2": "power_import_l2",
    "IPAP_L3": "power_import_l3",
    "IPAN_T": "power_export",
    "IPAN_L1": "power_export_l1",
    "IPAN_L2": "power_export_l2",
    "IPAN_L3": "power_export_l3",
    "IPRP_T": "reactive_power_import",
    "IPRN_T": "reactive_power_export",
    "IPA_T": "apparent_power",
    "PF": "power_factor",
    "V_L1": "voltage_l1",
    "V_L2": "voltage_l2",
    "V_L3": "voltage_l3",
    "I_L1": "current_l1",
    "I_L2": "current_l2",
    "I_L3": "current_l3",
}
# The longest line kept (bytes); the documented row is about 400 bytes.
MAX_LINE_BYTES: Final = 4096
_DAILY_FILE: Final = re.compile(r"^(\d{4})(\d{2})(\d{2})\.csv$", re.IGNORECASE)
_META: Final = ("RID", "TIME", "TARIFF", "RP", "MID", "MSTAT", "MIDENT", "MMODEL", "MIF", "MPROT")


@dataclass(frozen=True, slots=True)
class SdFile:
    """One entry of an SD-card listing."""

    name: str
    size: int = 0
    is_dir: bool = False

    @property
    def day(self) -> date | None:
        """Return the date of a daily log file (``YYYYMMDD.CSV``), None for anything else."""
        return None if self.is_dir else file_day(self.name)


def daily_file_name(day: date) -> str:
    """Return the name of the log file of one day (``20260115.CSV``)."""
    return f"{day:%Y%m%d}.CSV"


def file_day(name: str) -> date | None:
    """Return the date a log file's name stands for, None for another name."""
    match = _DAILY_FILE.match(name.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_sdcard_listing(data: Any) -> tuple[SdFile, ...]:
    """Parse ``GET /sdcard/`` (``{"path", "files": [{"name", "size", "type"}]}``).

    Entries without a usable name are left out; a folder may be marked by ``type: dir`` or by a
    trailing ``/`` on its name.
    """
    root = require_object(data, "SD-card listing")
    files = root.get("files")
    if not isinstance(files, list):
        raise WhatwattInvalidResponseError("SD-card listing: files is not a list")
    entries: list[SdFile] = []
    for item in files:
        if not isinstance(item, dict) or not (name := as_text(item.get("name"))):
            continue
        is_dir = item.get("type") == "dir" or name.endswith("/")
        size = as_int(item.get("size"))
        entries.append(SdFile(name.rstrip("/"), max(size or 0, 0), is_dir))
    return tuple(entries)


def _fields(line: str) -> list[str] | None:
    """Split one CSV line (quotes honoured); None when it is not one complete row."""
    try:
        rows = list(csv.reader([line], strict=True))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


class SdCsvReader:
    """Turn the bytes of one log file, chunk by chunk, into ``Report`` rows."""

    def __init__(self, *, start: datetime | None = None, end: datetime | None = None) -> None:
        """Keep only rows with ``start <= TIME <= end`` (either bound may be None)."""
        self._start = start
        self._end = end
        self._buffer = b""
        self._discarding = False
        self._columns: dict[str, int] | None = None
        self.past_end = False
        self.first: datetime | None = None  # the time of the file's first row, in range or not
        self.rows = 0  # rows turned into reports
        self.skipped = 0  # lines dropped: unparsable, too long, no time, before the header

    def feed(self, chunk: bytes) -> list[Report]:
        """Consume the next chunk of the file; return the rows it completed."""
        reports: list[Report] = []
        buffer = self._buffer + chunk
        start = 0
        while (end := buffer.find(b"\n", start)) >= 0:
            line = buffer[start:end]
            start = end + 1
            if self._discarding:  # the end of a line that was too long
                self._discarding = False
                continue
            if len(line) > MAX_LINE_BYTES:  # the same verdict whatever the chunks
                self.skipped += 1
                continue
            self._line(line, reports)
        rest = buffer[start:]
        if len(rest) > MAX_LINE_BYTES:
            if not self._discarding:
                self.skipped += 1
            self._discarding = True
            rest = b""
        self._buffer = rest
        return reports

    def close(self) -> list[Report]:
        """Finish the file: a last line without a line end still counts."""
        reports: list[Report] = []
        if self._buffer and not self._discarding:
            self._line(self._buffer, reports)
        self._buffer = b""
        self._discarding = False
        return reports

    def _line(self, raw: bytes, reports: list[Report]) -> None:
        text = raw.decode("utf-8", errors="replace").strip().lstrip("\ufeff")
        if not text:
            return
        fields = _fields(text)
        if fields is None:
            self.skipped += 1
            return
        if fields[0].strip().upper() == "RID" and "TIME" in (f.strip().upper() for f in fields):
            # A header (the first line, or again after the device restarted its log).
            self._columns = {name.strip().upper(): index for index, name in enumerate(fields)}
            return
        if self._columns is None:
            self.skipped += 1
            return
        report = self._report(fields, self._columns)
        if report is not None and self.first is None:
            self.first = report.timestamp
        if report is None:
            self.skipped += 1
        elif report.timestamp is not None and self._in_range(report.timestamp):
            self.rows += 1
            reports.append(report)

    def _in_range(self, moment: datetime) -> bool:
        if self._start is not None and moment < self._start:
            return False
        if self._end is not None and moment > self._end:
            self.past_end = True
            return False
        return True

    @staticmethod
    def _report(fields: list[str], columns: Mapping[str, int]) -> Report | None:
        """Return the report of one row, None when it has no usable UTC time."""

        def field(name: str) -> str | None:
            index = columns.get(name)
            if index is None or index >= len(fields):
                return None
            return fields[index].strip() or None

        meta = {name: field(name) for name in _META}
        moment = parse_iso_time(meta["TIME"])
        if moment is None:
            return None
        values: dict[str, float] = {}
        rejected: list[str] = []
        for column, key in CSV_COLUMNS.items():
            text = field(column)
            if text is None:
                continue
            number = as_float(text)
            if number is None or not in_range(key, number):
                rejected.append(key)
            else:
                values[key] = number
        tariff = as_int(meta["TARIFF"])
        period = as_float(meta["RP"])
        return Report(
            values=values,
            report_id=as_int(meta["RID"]),
            interval=as_interval(period / 1000.0) if period is not None else None,
            tariff=tariff if tariff in (1, 2) else None,
            timestamp=moment,
            meter=MeterInfo(
                status=as_text(meta["MSTAT"]),
                interface=as_text(meta["MIF"]),
                protocol=as_text(meta["MPROT"]),
                model=as_text(meta["MMODEL"]),
                meter_id=as_text(meta["MID"]),
                serial=as_text(meta["MIDENT"]),
            ),
            rejected=tuple(rejected),
        )


__all__ = [
    "CSV_COLUMNS",
    "MAX_LINE_BYTES",
    "SdCsvReader",
    "SdFile",
    "daily_file_name",
    "file_day",
    "parse_sdcard_listing",
]
