"""The live transport: the device's Server-Sent Events stream pushes one reading per telegram.

One background task owns the stream: it opens ``/api/v1/live`` through ``api.live.LiveStream``,
hands every reading to the coordinator, and reconnects for ever:

- the stream goes quiet for 3 meter intervals (at least 60 s): the system information is read
  (meter link, licence, health) and the stream is opened again at once;
- the stream breaks or cannot be opened: the entities go unavailable and the next attempt comes
  after a jittered, doubling delay up to a ceiling; they return with the next event;
- the device keeps closing the stream (it serves one client, so another client is taking it
  over): the delay becomes the ceiling and a repair issue says so, until the stream holds again.

The coordinator never reads ``/api/v1/report`` here (FREE devices answer 404); the system
information is read every few minutes while the stream runs, as the REST transport does.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta, timezone, tzinfo
import random
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from .api.errors import WhatwattAuthError, WhatwattError, WhatwattTimeoutError
from .api.live import LiveStream
from .const import DOMAIN, LOGGER, SYSTEM_REFRESH_INTERVAL
from .issues import ISSUE_LIVE_TAKEN_OVER, async_clear_issue, async_raise_issue
from .transport import WhatwattTransport

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .api.models import SystemInfo
    from .coordinator import WhatwattConfigEntry, WhatwattCoordinator

# Idle watchdog: this many meter intervals without an event, but never less than IDLE_MIN.
IDLE_INTERVALS: Final = 3
IDLE_MIN: Final = 60.0
# Reconnection delays: BACKOFF_BASE · 2^attempt up to BACKOFF_CEILING, jittered to 50-100 %.
BACKOFF_BASE: Final = 1.0
BACKOFF_CEILING: Final = 300.0
# Take-over: this many drops of an open stream within TAKEOVER_WINDOW ...
TAKEOVER_DROPS: Final = 3
TAKEOVER_WINDOW: Final = timedelta(minutes=10)
# ... and the stream "holds again" once it delivered events for this long without a drop.
TAKEOVER_HOLD: Final = timedelta(seconds=60)
# Device clocks further off UTC than this are unset: their local times are read as UTC.
_MAX_UTC_OFFSET: Final = timedelta(hours=14)


def device_zone(system: SystemInfo | None, now: datetime) -> tzinfo | None:
    """Return the device's UTC offset, from its local clock in ``/api/v1/system``.

    Live events carry local wall-clock time only. The offset is rounded to 15 minutes;
    None when the device does not tell its time or its clock is unset.
    """
    device = system.raw.get("device") if system is not None else None
    if not isinstance(device, dict):
        return None
    try:
        local = datetime.fromisoformat(f"{device.get('date')}T{device.get('time')}")
    except ValueError:
        return None
    quarter = timedelta(minutes=15)
    offset = round((local.replace(tzinfo=UTC) - now) / quarter) * quarter
    if abs(offset) > _MAX_UTC_OFFSET:
        return None
    return timezone(offset)


def backoff_delay(attempt: int) -> float:
    """Return the jittered wait before reconnection attempt ``attempt`` (0-based)."""
    ceiling = min(BACKOFF_CEILING, BACKOFF_BASE * 2 ** min(attempt, 16))
    return float(ceiling * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not cryptography


class LiveTransport(WhatwattTransport):
    """Follow ``GET /api/v1/live`` and push every reading to the coordinator."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WhatwattConfigEntry,
        coordinator: WhatwattCoordinator,
    ) -> None:
        """Bind the transport; nothing runs before ``async_start``."""
        super().__init__(hass, entry, coordinator)
        self._task: asyncio.Task[None] | None = None
        self._stream: LiveStream | None = None
        self._unsub_system: CALLBACK_TYPE | None = None
        self._attempt = 0  # failed attempts since the last event
        self._drops: list[datetime] = []  # when open streams broke, within TAKEOVER_WINDOW
        self._taken_over = False
        self._held_since: datetime | None = None
        self._zone: tzinfo | None = None

    async def async_start(self) -> None:
        """Open the stream in the background and read the system information periodically."""
        self._zone = device_zone(self.coordinator.system, dt_util.utcnow())
        self._unsub_system = async_track_time_interval(
            self.hass, self._async_system_tick, SYSTEM_REFRESH_INTERVAL
        )
        self._task = self.entry.async_create_background_task(
            self.hass, self._async_run(), f"{DOMAIN} live stream {self.entry.title}"
        )

    async def async_stop(self) -> None:
        """Close the stream and end the task and timer."""
        if self._unsub_system is not None:
            self._unsub_system()
            self._unsub_system = None
        if self._stream is not None:
            self._stream.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        async_clear_issue(self.hass, self.entry, ISSUE_LIVE_TAKEN_OVER)

    @property
    def connected(self) -> bool:
        """Return True while the stream is open."""
        return self._stream is not None and self._stream.connected

    @property
    def idle_timeout(self) -> float:
        """Return how long the stream may stay silent before it is reopened (seconds)."""
        return max(IDLE_INTERVALS * self.coordinator.report_interval(None), IDLE_MIN)

    # -- the stream task -------------------------------------------------------------------

    async def _async_run(self) -> None:
        """Keep the stream open for as long as the entry is loaded."""
        while True:
            delay = await self._async_stream_once()
            if delay is None:
                return
            if delay > 0:
                await asyncio.sleep(delay)

    async def _async_stream_once(self) -> float | None:
        """Open the stream once and follow it; return the wait before the next attempt.

        None means: stop (the password was refused; re-authentication reloads the entry).
        """
        client = self.coordinator.client
        assert client is not None  # a live entry always has the device address
        stream = LiveStream(client, idle_timeout=self.idle_timeout, tz=self._zone)
        self._stream = stream
        try:
            async for report in stream.events():
                self._on_report()
                self.coordinator.async_push_report(report)
        except WhatwattAuthError as err:
            self.coordinator.async_set_update_error(err)
            self.entry.async_start_reauth(self.hass)
            return None
        except WhatwattTimeoutError as err:
            if stream.streams_opened:
                # Quiet stream: the meter may be silent. Read the device's state, reopen at once.
                await self._async_refresh_system()
                return 0.0 if self.coordinator.last_update_success else self._next_delay()
            return self._failed(stream, str(err))
        except WhatwattError as err:
            return self._failed(stream, str(err))
        finally:
            self._stream = None
        return self._next_delay()  # the stream ended without error (closed by async_stop)

    @callback
    def _on_report(self) -> None:
        """Book-keeping for one event: the stream is up, maybe holding again."""
        now = dt_util.utcnow()
        if not self.coordinator.last_update_success:
            LOGGER.info("Live stream of %s is back", self.entry.title)
        self._attempt = 0
        if self._held_since is None:
            self._held_since = now
        elif self._taken_over and now - self._held_since >= TAKEOVER_HOLD:
            self._taken_over = False
            self._drops.clear()
            async_clear_issue(self.hass, self.entry, ISSUE_LIVE_TAKEN_OVER)

    @callback
    def _failed(self, stream: LiveStream, error: str) -> float:
        """Make the entities unavailable after a failure; return the wait before the next try."""
        self._held_since = None
        self.coordinator.async_set_update_error(
            UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": error},
            )
        )
        if stream.streams_opened and self._dropped():
            return BACKOFF_CEILING * random.uniform(0.5, 1.0)  # noqa: S311 - jitter
        return self._next_delay()

    def _dropped(self) -> bool:
        """Count a drop of an open stream; return True when the stream is being taken over."""
        now = dt_util.utcnow()
        self._drops = [t for t in self._drops if now - t < TAKEOVER_WINDOW]
        self._drops.append(now)
        if len(self._drops) < TAKEOVER_DROPS:
            return False
        if not self._taken_over:
            self._taken_over = True
            LOGGER.warning(
                "The live stream of %s keeps being taken over by another client; backing off",
                self.entry.title,
            )
            async_raise_issue(
                self.hass,
                self.entry,
                ISSUE_LIVE_TAKEN_OVER,
                placeholders={"drops": str(len(self._drops))},
            )
        return True

    def _next_delay(self) -> float:
        delay = backoff_delay(self._attempt)
        self._attempt += 1
        return delay

    # -- system information ------------------------------------------------------------------

    async def _async_refresh_system(self) -> None:
        """Read /api/v1/system through the coordinator (errors make the entities unavailable)."""
        await self.coordinator.async_refresh()
        self._zone = device_zone(self.coordinator.system, dt_util.utcnow())

    async def _async_system_tick(self, _now: datetime) -> None:
        """Every few minutes: health, licence and firmware, while the stream runs."""
        if self.connected and self.coordinator.last_update_success:
            await self._async_refresh_system()
