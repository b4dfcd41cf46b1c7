"""The live transport: the device's Server-Sent Events stream pushes one reading per telegram.

One background task owns the stream: it opens ``/api/v1/live`` through ``api.live.LiveStream``,
hands every reading to the coordinator, and reconnects for ever:

- the stream goes quiet for 3 meter intervals (at least 60 s): the system information is read
  (meter link, licence, health) and the stream is opened again at once;
- the stream breaks or cannot be opened: the entities go unavailable and the next attempt comes
  after a jittered, doubling delay up to a ceiling; they return with the next event;
- the device keeps closing the stream (it serves one client, so another client is taking it
  over): the delay becomes the ceiling and a repair issue says so, until the stream holds again.
  Only clean closes by the device that the next attempt follows with a working stream count:
  broken connections (Wi-Fi, reboot) and timeouts get the normal delays.

The coordinator never reads ``/api/v1/report`` here (FREE devices answer 404); the system
information is read every few minutes by the base transport's periodic device read.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta, timezone, tzinfo
import random
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import callback
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from .api.errors import (
    WhatwattAuthError,
    WhatwattError,
    WhatwattStreamClosedError,
    WhatwattTimeoutError,
)
from .api.live import LiveStream
from .const import DOMAIN, LOGGER
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
# Take-over: this many clean closes of an open stream within TAKEOVER_WINDOW ...
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
        self._attempt = 0  # failed attempts since the last event
        # Take-over drops: clean closes by the device followed by a successful reconnect.
        self._drops: list[datetime] = []
        self._closed_at: datetime | None = None  # the last clean close, until the next try tells
        self._taken_over = False
        self._held_since: datetime | None = None

    async def async_start(self) -> None:
        """Open the stream in the background (the base class reads the system periodically)."""
        await super().async_start()
        self._task = self.entry.async_create_background_task(
            self.hass, self._async_run(), f"{DOMAIN} live stream {self.entry.title}"
        )

    async def async_stop(self) -> None:
        """Close the stream and end the task and timer."""
        await super().async_stop()
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
    def _zone(self) -> tzinfo | None:
        """Return the device's UTC offset as of the last system read (events are local time)."""
        coordinator = self.coordinator
        return device_zone(coordinator.system, coordinator.system_fetched or dt_util.utcnow())

    def diagnostics(self) -> dict[str, Any]:
        """Return the stream's state: connected, recent take-over drops, failed attempts."""
        return {
            "connected": self.connected,
            "drops": len(self._drops),
            "attempt": self._attempt,
            "taken_over": self._taken_over,
        }

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
            self._settle_close(stream)
            if stream.streams_opened:
                # Quiet stream: the meter may be silent. Read the device's state, reopen at once.
                await self._async_refresh_system()
                return 0.0 if self.coordinator.last_update_success else self._next_delay()
            return self._failed(str(err))
        except WhatwattStreamClosedError as err:
            self._settle_close(stream)
            return self._failed(str(err), taken_over=self._dropped())
        except WhatwattError as err:
            self._settle_close(stream)
            return self._failed(str(err))
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
            self._closed_at = None
            async_clear_issue(self.hass, self.entry, ISSUE_LIVE_TAKEN_OVER)

    @callback
    def _failed(self, error: str, *, taken_over: bool = False) -> float:
        """Make the entities unavailable after a failure; return the wait before the next try."""
        self._held_since = None
        self.coordinator.async_set_update_error(
            UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": error},
            )
        )
        if taken_over:
            return BACKOFF_CEILING * random.uniform(0.5, 1.0)  # noqa: S311 - jitter
        return self._next_delay()

    def _settle_close(self, stream: LiveStream) -> None:
        """Judge the last clean close by the attempt after it: a drop if the stream opened.

        A take-over leaves the device up, so the stream opens again at once; a device that
        closed the stream and went away (a reboot) refuses or times out instead.
        """
        if self._closed_at is not None and stream.streams_opened:
            self._drops.append(self._closed_at)
        self._closed_at = None

    def _dropped(self) -> bool:
        """Count a clean close of an open stream; return True when it is being taken over.

        The earlier drops are settled; this close counts now (so the back-off applies at once)
        and is settled by the next attempt.
        """
        now = dt_util.utcnow()
        self._closed_at = now
        self._drops = [t for t in self._drops if now - t < TAKEOVER_WINDOW]
        drops = len(self._drops) + 1
        if drops < TAKEOVER_DROPS:
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
                placeholders={"drops": str(drops)},
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
