"""The live stream: the device's Server-Sent Events push one reading per meter telegram."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .api.errors import (
    WhatwattAuthError,
    WhatwattError,
    WhatwattStreamClosedError,
    WhatwattTimeoutError,
)
from .api.live import BACKOFF_CEILING, LiveStream, TakeoverWatch, backoff_delay
from .const import DOMAIN, LOGGER
from .errors import live_error
from .issues import ISSUE_LIVE_TAKEN_OVER, async_clear_issue, async_raise_issue

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.config_entries import ConfigEntry

    from .api.client import WhatwattClient
    from .api.models import Report

# Idle watchdog: this many meter intervals without an event, but never less than IDLE_MIN.
IDLE_INTERVALS: Final = 3
IDLE_MIN: Final = 60.0


class LiveSource:
    """Follow ``GET /api/v1/live`` and hand every reading on."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: WhatwattClient,
        *,
        on_report: Callable[[Report], None],
        on_error: Callable[[Exception], None],
        on_refused: Callable[[Exception], None],
        on_quiet: Callable[[], object],
        interval: Callable[[], float],
    ) -> None:
        """Bind the source; nothing runs before ``async_start``."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self._on_report = on_report
        self._on_error = on_error
        self._on_refused = on_refused
        self._on_quiet = on_quiet
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._stream: LiveStream | None = None
        self._attempt = 0  # failed attempts since the last event
        self._failing = False
        self._crashed = False  # an unexpected error was logged (once, until events flow)
        self._quiet = False  # a quiet stream was logged (once, until events flow)
        self._takeover = TakeoverWatch()

    async def async_start(self) -> None:
        """Open the stream in the background."""
        self._task = self._entry.async_create_background_task(
            self._hass, self._async_run(), f"{DOMAIN} live stream {self._entry.title}"
        )

    async def async_resume(self) -> None:
        """Open the stream again after it stopped on a refused password (which works again)."""
        if self._task is None or self._task.done():
            self._attempt = 0
            await self.async_start()

    async def async_stop(self) -> None:
        """Close the stream and end the task."""
        if self._stream is not None:
            self._stream.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        async_clear_issue(self._hass, self._entry, ISSUE_LIVE_TAKEN_OVER)

    def diagnostics(self) -> dict[str, Any]:
        """Return the stream's state: connected, recent take-over drops, failed attempts."""
        return {
            "connected": self._stream is not None and self._stream.connected,
            "drops": len(self._takeover.drops),
            "attempt": self._attempt,
            "taken_over": self._takeover.taken_over,
        }

    @property
    def idle_timeout(self) -> float:
        """Return how long the stream may stay silent before it is reopened (seconds)."""
        return max(IDLE_INTERVALS * self._interval(), IDLE_MIN)

    async def _async_run(self) -> None:
        """Keep the stream open for as long as the entry is loaded."""
        while True:
            try:
                delay = await self._async_stream_once()
            except Exception as err:  # noqa: BLE001 - the reader must survive anything
                if not self._crashed:
                    self._crashed = True
                    LOGGER.exception("Unexpected error in the live stream of %s", self._entry.title)
                delay = self._failed(err)
            if delay is None:
                return
            if delay > 0:
                await asyncio.sleep(delay)

    async def _async_stream_once(self) -> float | None:
        """Open the stream once and follow it; return the next wait (None: stop, refused)."""
        stream = LiveStream(self._client, idle_timeout=self.idle_timeout, tz=self._client.tz)
        self._stream = stream
        try:
            async for report in stream.events():
                self._on_event()
                self._on_report(report)
        except WhatwattError as err:
            opened = stream.streams_opened > 0
            self._takeover.settle(opened)  # a refused attempt too: a clean close before was no drop
            return self._ended(err, opened=opened)
        finally:
            self._stream = None
        return self._next_delay()  # the stream ended without error (closed by async_stop)

    @callback
    def _ended(self, err: WhatwattError, *, opened: bool) -> float | None:
        """Return the wait after the stream ended with ``err`` (None: stop, refused)."""
        if isinstance(err, WhatwattAuthError):
            self._failing = False  # the watch logs the heal
            self._on_refused(err)
            return None
        if isinstance(err, WhatwattTimeoutError) and opened:  # the meter may be silent
            if not self._quiet:
                self._quiet = True
                LOGGER.info(
                    "The live stream of %s brought nothing for %.0f s; reading the device and "
                    "opening the stream again",
                    self._entry.title,
                    self.idle_timeout,
                )
            self._on_quiet()
            return 0.0
        closed = isinstance(err, WhatwattStreamClosedError)
        return self._failed(err, taken_over=closed and self._dropped())

    @callback
    def _on_event(self) -> None:
        """Book-keeping for one event: the stream is up, maybe holding again."""
        if self._failing:
            self._failing = False
            self._crashed = False
            LOGGER.info("Live stream of %s is back", self._entry.title)
        self._quiet = False
        self._attempt = 0
        if self._takeover.held(dt_util.utcnow()):
            async_clear_issue(self._hass, self._entry, ISSUE_LIVE_TAKEN_OVER)

    @callback
    def _failed(self, err: Exception, *, taken_over: bool = False) -> float:
        """Make the measurements unavailable (why, in this integration's words); next wait."""
        self._takeover.held_since = None
        self._failing = True
        self._on_error(live_error(err))
        if taken_over:
            return BACKOFF_CEILING * random.uniform(0.5, 1.0)  # noqa: S311 - jitter
        return self._next_delay()

    def _dropped(self) -> bool:
        """Count a clean close of an open stream; return True when it is being taken over."""
        if (drops := self._takeover.closed(dt_util.utcnow())) is None:
            return False
        if not self._takeover.taken_over:
            self._takeover.taken_over = True
            LOGGER.warning(
                "The live stream of %s keeps being taken over by another client; backing off",
                self._entry.title,
            )
            placeholders = {"drops": str(drops)}
            async_raise_issue(
                self._hass, self._entry, ISSUE_LIVE_TAKEN_OVER, placeholders=placeholders
            )
        return True

    def _next_delay(self) -> float:
        delay = backoff_delay(self._attempt)
        self._attempt += 1
        return delay
