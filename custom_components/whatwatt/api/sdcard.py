"""Reading the device's SD card for a gap: whether it logs, which daily files, each hour's reading.

The rules: ``docs/architecture.md``, "The backfill: reading the SD card".
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Final

from .clock import DeviceZone
from .errors import WhatwattError
from .parse_sdcard import SdCsvReader
from .totals import TotalsGuard

if TYPE_CHECKING:
    from .client import WhatwattClient
    from .models import Report, Settings, SystemInfo
    from .parse_sdcard import SdFile

_LOGGER = logging.getLogger(__name__)

# The most read of one daily file (a day at the fastest logging, 1 s, is about 17 MiB).
MAX_FILE_BYTES: Final = 32 * 1024 * 1024
# While the device's UTC offset is not known, local dates are taken as up to this far either way.
_DATE_MARGIN: Final = timedelta(hours=14)
# The longest a daily file's rows last from its first one (a local day when clocks go back).
_FILE_SPAN: Final = timedelta(hours=25)
_HOUR: Final = timedelta(hours=1)


def sd_logging(settings: Settings | None) -> bool | None:
    """Return whether the device logs to its card (``services.sd.enable`` as last read)."""
    sd = settings.raw.get("services", {}).get("sd") if settings is not None else None
    enable = sd.get("enable") if isinstance(sd, dict) else None
    return enable if isinstance(enable, bool) else None


def logs_to_card(system: SystemInfo, settings: Settings | None) -> bool:
    """Return True when logging is on and the device does not report its card missing."""
    card = system.raw.get("sd_card", {})
    missing = isinstance(card, dict) and card.get("installed") is False
    return sd_logging(settings) is True and not missing


def closing_hour(moment: datetime) -> datetime:
    """Return the hour a reading at ``moment`` closes (one on the hour closes the hour before)."""
    return (moment - timedelta(microseconds=1)).replace(minute=0, second=0, microsecond=0)


def device_offset(client: WhatwattClient) -> timedelta | None:
    """Return the device's UTC offset as its clock shows it, None while unknown."""
    zone = client.tz
    if isinstance(zone, DeviceZone):
        return zone.offset
    return zone.utcoffset(None) if zone is not None else timedelta(0)


def files_for(
    listing: tuple[SdFile, ...], hours: list[datetime], offset: timedelta | None = None
) -> list[SdFile]:
    """Return the card's daily files of the window's UTC and local dates, oldest first."""
    moments = [*hours, hours[-1] + _HOUR - timedelta(microseconds=1)]
    shifts = (offset,) if offset is not None else (-_DATE_MARGIN, _DATE_MARGIN)
    days = {(moment + shift).date() for moment in moments for shift in (timedelta(0), *shifts)}
    chosen = [item for item in listing if item.day is not None and item.day in days]
    return sorted(chosen, key=lambda item: (item.day, item.name))


class Closings:
    """Per sensor key, each hour's closing reading and what it used (native units)."""

    def __init__(self, seeds: dict[str, float | None], hours: list[datetime], name: str) -> None:
        """Collect ``seeds``' keys over ``hours``; a seed is the register before the window."""
        self._guard = TotalsGuard(name)
        for key, value in seeds.items():
            if value is not None:
                self._guard.seed(key, value)
        self._wanted = set(hours)
        self._last: datetime | None = None
        self._previous = {key: value for key, value in seeds.items() if value is not None}
        self._carried: dict[str, float] = {}  # used by a row before the window: the first hour's
        self.stopped = False
        self.values: dict[str, dict[datetime, float]] = {key: {} for key in seeds}
        self.used: dict[str, dict[datetime, float]] = {key: {} for key in seeds}

    def cut(self) -> None:
        """Stop at a read cut short: the hour it stopped in has no closing reading, nor later."""
        self.stopped = True
        if self._last is not None:
            hour = closing_hour(self._last)
            for values in (*self.values.values(), *self.used.values()):
                for stale in [wanted for wanted in values if wanted >= hour]:
                    del values[stale]

    def take(self, reports: list[Report]) -> None:
        """Take the rows read from a file."""
        for report in reports:
            moment = report.timestamp
            if moment is None or (self._last is not None and moment <= self._last):
                continue
            self._last = moment
            checked = self._guard.check(report)
            hour = closing_hour(moment)
            for key, values in self.values.items():
                if (value := checked.values.get(key)) is None:
                    continue
                previous, self._previous[key] = self._previous.get(key), value
                step = value if previous is None or value < previous else value - previous
                if hour not in self._wanted:
                    self._carried[key] = self._carried.get(key, 0.0) + step
                    continue
                values[hour] = value
                step += self._carried.pop(key, 0.0)
                self.used[key][hour] = self.used[key].get(hour, 0.0) + step


async def read_file(
    client: WhatwattClient, sd_file: SdFile, hours: list[datetime], closings: Closings
) -> bool:
    """Stream one daily file into ``closings``: no further than the window, ``MAX_FILE_BYTES``.

    Return True when its rows went past the window's end (later files hold later rows).
    """
    reader = SdCsvReader(start=hours[0], end=hours[-1] + _HOUR)
    received = 0
    async with contextlib.aclosing(client.stream_sdcard_file(sd_file.name)) as chunks:
        async for chunk in chunks:
            received += len(chunk)
            closings.take(reader.feed(chunk))
            if reader.past_end or (reader.first and reader.first + _FILE_SPAN <= hours[0]):
                return reader.past_end  # past the window, or a file whose day ended before it
            if received >= MAX_FILE_BYTES:
                _LOGGER.warning("%s: only the first %s bytes read", sd_file.name, received)
                closings.cut()
                return False
    closings.take(reader.close())
    _LOGGER.debug("%s: %s rows read, %s lines skipped", sd_file.name, reader.rows, reader.skipped)
    return reader.past_end


async def read_closings(
    client: WhatwattClient,
    listing: tuple[SdFile, ...],
    hours: list[datetime],
    seeds: dict[str, float | None],
    name: str,
) -> Closings:
    """Return each hour's closing readings from the window's daily files; errors propagate."""
    if (offset := device_offset(client)) is None:  # its clock tells the dates of its files
        with contextlib.suppress(WhatwattError):
            await client.get_system()
        offset = device_offset(client)
    closings = Closings(seeds, hours, name)
    for sd_file in files_for(listing, hours, offset):
        if await read_file(client, sd_file, hours, closings) or closings.stopped:
            break  # later files hold later rows
    return closings
