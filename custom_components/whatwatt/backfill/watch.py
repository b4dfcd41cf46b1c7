"""An entry's ``Backfill``: its lock, and the gap watch that has the SD card fill missed hours.

The rules: ``docs/architecture.md``, "The backfill: the gap watch".
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from custom_components.whatwatt.api.errors import WhatwattError
from custom_components.whatwatt.const import DOMAIN
from custom_components.whatwatt.issues import ISSUE_SD_LOGGING, async_clear_issue

from .card import sd_logging
from .plan import MAX_BACKFILL_DAYS, full_hours
from .statistics import recorder_loaded

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import HomeAssistant

    from custom_components.whatwatt.coordinator import WhatwattConfigEntry

_LOGGER = logging.getLogger(__name__)

STORE_VERSION: Final = 1
# The stored time of the last reading is refreshed at most this often (seconds).
HEARTBEAT: Final = 300.0
RETRY_AFTER: Final = timedelta(minutes=15)


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORE_VERSION, f"{DOMAIN}.coverage.{entry_id}")


def _time(value: Any) -> datetime | None:
    return dt_util.parse_datetime(value) if isinstance(value, str) else None


class Backfill:
    """An entry's backfill: one run at a time (``lock``); follows the readings, fills the gaps."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WhatwattConfigEntry,
        run: Callable[[HomeAssistant, WhatwattConfigEntry, datetime, datetime], Awaitable[object]],
    ) -> None:
        """Watch ``entry`` (loaded, with a device address); ``run`` fills a gap."""
        self._hass = hass
        self._entry = entry
        self._run = run
        self.lock = asyncio.Lock()
        self._store = _store(hass, entry.entry_id)
        self.last_reading: datetime | None = None
        self.pending: list[tuple[datetime, datetime]] = []
        self._save_scheduled = False
        self._running = False
        self._retry: CALLBACK_TYPE | None = None

    async def async_load(self) -> None:
        """Read the time of the last reading and the pending gaps kept from before."""
        data = await self._store.async_load() or {}
        self.last_reading = _time(data.get("last_reading"))
        for item in data.get("pending") or ():
            if isinstance(item, list) and len(item) == 2:
                start, end = _time(item[0]), _time(item[1])
                if start is not None and end is not None and start < end:
                    self.pending.append((start, end))

    def _data(self) -> dict[str, Any]:
        self._save_scheduled = False
        return {
            "last_reading": self.last_reading.isoformat() if self.last_reading else None,
            "pending": [[start.isoformat(), end.isoformat()] for start, end in self.pending],
        }

    @callback
    def async_start(self) -> None:
        """Follow the readings and the device reads; take the reading already there."""
        runtime = self._entry.runtime_data
        self._entry.async_on_unload(runtime.measurements.async_add_listener(self._on_reading))
        self._entry.async_on_unload(runtime.device.async_add_listener(self._on_device))
        self._on_reading()
        self._on_device()
        if self.pending:
            self._start_run()

    async def async_stop(self) -> None:
        """Stop retrying and keep what is known (the entry unloads)."""
        if self._retry is not None:
            self._retry()
            self._retry = None
        await self._store.async_save(self._data())

    @callback
    def _on_reading(self) -> None:
        """Note a reading; a silence that held a full hour is a gap to fill."""
        if not self._entry.runtime_data.measurements.measurements_available:
            return
        now = dt_util.utcnow()
        last, self.last_reading = self.last_reading, now
        if last is not None and full_hours(last, now):
            _LOGGER.info("%s: no readings from %s to %s", self._entry.title, last, now)
            self.pending.append((last, now))
            self._save()
            self._start_run()
        else:
            self._save(HEARTBEAT)

    @callback
    def _save(self, delay: float = 0) -> None:
        """Write soon (the store keeps the latest time asked for, so a due write is left be)."""
        if delay and self._save_scheduled:
            return
        self._save_scheduled = True
        self._store.async_delay_save(self._data, delay)

    @callback
    def _on_device(self) -> None:
        """Clear the "history gap not filled" issue once logging is on and a card is in."""
        state = self._entry.runtime_data.device.data
        if state is None or sd_logging(state) is not True:
            return
        card = state.system.raw.get("sd_card", {})
        if not (isinstance(card, dict) and card.get("installed") is False):
            async_clear_issue(self._hass, self._entry, ISSUE_SD_LOGGING)

    @callback
    def _start_run(self) -> None:
        if self._running or self._retry is not None:
            return
        self._running = True
        self._entry.async_create_background_task(
            self._hass, self._async_run(), f"{DOMAIN} backfill {self._entry.title}"
        )

    @callback
    def _retry_now(self, _now: datetime) -> None:
        self._retry = None
        self._start_run()

    async def _async_run(self) -> None:
        """Fill the pending gaps, oldest first; stop at a device error and retry later."""
        try:
            while self.pending:
                start, end = self.pending[0]
                oldest = dt_util.utcnow() - timedelta(days=MAX_BACKFILL_DAYS)
                if end > oldest and recorder_loaded(self._hass):
                    try:
                        async with self.lock:
                            await self._run(self._hass, self._entry, start, end)
                    except WhatwattError as err:
                        _LOGGER.info(
                            "%s: the gap from %s is filled later: %s", self._entry.title, start, err
                        )
                        self._retry = async_call_later(self._hass, RETRY_AFTER, self._retry_now)
                        return
                    except Exception:  # a bug must not keep the gap open for ever
                        _LOGGER.exception("%s: gap from %s not filled", self._entry.title, start)
                self.pending.pop(0)
                self._save()
        finally:
            self._running = False


async def async_remove_coverage(hass: HomeAssistant, entry_id: str) -> None:
    """Forget what the watcher kept for a removed entry."""
    await _store(hass, entry_id).async_remove()
