"""Server-Sent Events reader for ``GET /api/v1/live`` (one event per meter telegram)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
import logging
import random
from typing import TYPE_CHECKING, Final

import aiohttp

from .client import raise_for_status
from .clock import DeviceZone
from .errors import (
    WhatwattConnectionError,
    WhatwattInvalidResponseError,
    WhatwattStreamBrokenError,
    WhatwattStreamClosedError,
    WhatwattTimeoutError,
)
from .parse_common import MAX_PAYLOAD_BYTES
from .parse_live import parse_live_event

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from datetime import tzinfo

    from .client import WhatwattClient
    from .models import Report

_LOGGER = logging.getLogger(__name__)

LIVE_PATH: Final = "/api/v1/live"
# The largest event (and line) kept: the size limit of every payload a parser reads.
MAX_EVENT_BYTES: Final = MAX_PAYLOAD_BYTES
_DISPATCHED: Final = frozenset({"", "live"})
# Reconnection delays: BACKOFF_BASE · 2^attempt up to BACKOFF_CEILING, jittered to 50-100 %.
BACKOFF_BASE: Final = 1.0
BACKOFF_CEILING: Final = 300.0
# Take-over: this many clean closes of an open stream within TAKEOVER_WINDOW ...
TAKEOVER_DROPS: Final = 3
TAKEOVER_WINDOW: Final = timedelta(minutes=10)
# ... and the stream "holds again" once it delivered events for this long without a drop.
TAKEOVER_HOLD: Final = timedelta(seconds=60)


def _line_end(buffer: bytes, start: int) -> int:
    """Return the index of the next CR or LF at or after ``start``; -1 when there is none."""
    ends = [pos for pos in (buffer.find(b"\r", start), buffer.find(b"\n", start)) if pos >= 0]
    return min(ends) if ends else -1


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched Server-Sent Event: its name (``""`` when unnamed) and data."""

    event: str
    data: str


class SseParser:
    r"""Incremental SSE decoder: feed bytes, get complete events.

    Lines end with LF, CRLF or CR (a CRLF split across two chunks counts once). ``data:`` with
    or without a space; several data lines are joined with ``\\n``; comments are ignored; an
    event is dispatched on a blank line when it has data. Memory is bounded: a line longer than
    ``MAX_EVENT_BYTES`` is dropped (its bytes are not kept while it goes on), and so is an event
    whose data grows beyond it (``dropped`` counts both).
    """

    def __init__(self) -> None:
        """Start with empty buffers."""
        self._buffer = b""
        self._skip_lf = False
        self._discarding = False  # inside a line that is too long
        self._data: list[str] = []
        self._size = 0  # bytes of data in the event so far; -1: the event is dropped
        self._event = ""
        self.dropped = 0

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Consume a chunk of the stream and return the events it completed."""
        events: list[SseEvent] = []
        if self._skip_lf and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._skip_lf = False
        buffer = self._buffer + chunk
        start = 0
        length = len(buffer)
        while start < length:
            end = _line_end(buffer, start)
            if end < 0:
                break
            line = buffer[start:end]
            start = end + 1
            if buffer[end] == 0x0D:  # CR: a CRLF counts once, also when split across chunks
                if start < length and buffer[start] == 0x0A:
                    start += 1
                elif start == length:
                    self._skip_lf = True
            if self._discarding:  # the end of a line that was too long
                self._discarding = False
                continue
            if len(line) > MAX_EVENT_BYTES:  # the same verdict whatever the chunks
                self._drop_event()
                continue
            event = self._line(line.decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
        self._keep(buffer[start:])
        return events

    def _keep(self, rest: bytes) -> None:
        """Keep the start of an unfinished line, unless it is already too long."""
        if len(rest) <= MAX_EVENT_BYTES:
            self._buffer = rest
            return
        self._buffer = b""
        if not self._discarding:
            self._discarding = True
            self._drop_event()

    def _drop_event(self) -> None:
        """Drop the event being read (its data and the rest of it, up to the blank line)."""
        if self._size >= 0:
            self.dropped += 1
        self._data, self._size = [], -1

    def _line(self, line: str) -> SseEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data" and self._size >= 0:
            self._size += len(value) + 1
            if self._size > MAX_EVENT_BYTES:
                self._drop_event()
            else:
                self._data.append(value)
        elif name == "event":
            self._event = value
        return None  # id, retry and unknown fields are ignored

    def _dispatch(self) -> SseEvent | None:
        data, event = self._data, self._event
        self._data, self._event, self._size = [], "", 0
        if not data:
            return None
        return SseEvent(event, "\n".join(data))


class LiveStream:
    """Reader of the device's live stream; the caller owns the reconnection policy.

    Its pieces are here: ``backoff_delay`` and ``TakeoverWatch``.

    ``events()`` opens ``/api/v1/live`` (with the client's authentication state) and yields one
    Report per ``live`` (or unnamed) event. When the open stream ends it raises
    WhatwattStreamClosedError if the device ended it cleanly (what it does when another client
    takes the stream over) and WhatwattStreamBrokenError if the connection broke off (Wi-Fi
    drop, reboot, often in the middle of an event); WhatwattTimeoutError when nothing arrives
    for ``idle_timeout`` seconds. The messages are this package's words; aiohttp's own error
    stays the cause (``__cause__``) and is logged at debug level. Events whose JSON cannot be
    parsed are skipped. Each call of ``events()`` opens a new connection.
    """

    def __init__(
        self,
        client: WhatwattClient,
        *,
        idle_timeout: float = 60.0,
        tz: tzinfo | None = None,
    ) -> None:
        """Prepare a stream on ``client``; nothing is opened until ``events()`` runs.

        ``tz`` is the zone of the events' local times; a ``DeviceZone`` learns from each event.
        """
        self._client = client
        self._idle_timeout = idle_timeout
        self._tz = tz
        self._response: aiohttp.ClientResponse | None = None
        self._closed = False
        self.events_received: int = 0
        self.streams_opened: int = 0  # connections answered with 200 (the stream was up)

    @property
    def connected(self) -> bool:
        """Return True while a stream response is open."""
        return self._response is not None and not self._response.closed

    async def events(self) -> AsyncIterator[Report]:
        """Yield one Report per live event until the stream fails or ``close()`` is called."""
        self._closed = False
        response = await self._client.open_stream(LIVE_PATH, read_timeout=self._idle_timeout)
        self._response = response
        try:
            if response.status != 200:
                await self._raise_status(response)
            self.streams_opened += 1
            parser = SseParser()
            loop = asyncio.get_running_loop()
            # The watchdog counts from the last event, not the last byte: a trickle of bytes
            # that never completes an event does not keep a dead stream open.
            deadline = loop.time() + self._idle_timeout
            while True:
                chunk = await self._read(response, deadline)
                if self._closed:
                    return
                if not chunk:
                    raise WhatwattStreamClosedError("the device closed the live stream")
                for event in parser.feed(chunk):
                    report = self._report(event)
                    if report is not None:
                        self.events_received += 1
                        deadline = loop.time() + self._idle_timeout
                        yield report
                        if self._closed:
                            return
        finally:
            self._response = None
            response.close()

    async def _read(self, response: aiohttp.ClientResponse, deadline: float) -> bytes:
        try:
            async with asyncio.timeout_at(deadline):
                return await response.content.readany()
        except TimeoutError as err:
            if self._closed:
                return b""
            raise WhatwattTimeoutError(
                f"no live event for {self._idle_timeout:g} s from {self._client.host}"
            ) from err
        except (aiohttp.ClientError, ConnectionError) as err:
            if self._closed:
                return b""
            # ClientPayloadError (TransferEncodingError: the end chunk never came), a reset ...
            _LOGGER.debug("Live stream from %s broke off: %r", self._client.host, err)
            raise WhatwattStreamBrokenError(
                f"the live stream from {self._client.host} broke off"
            ) from err

    async def _raise_status(self, response: aiohttp.ClientResponse) -> None:
        try:
            body = await response.read()
        except (aiohttp.ClientError, TimeoutError):
            body = b""
        raise_for_status(response.status, LIVE_PATH, body)
        raise WhatwattConnectionError(f"unexpected live stream status {response.status}")

    def _report(self, event: SseEvent) -> Report | None:
        if event.event not in _DISPATCHED:
            return None
        try:
            report = parse_live_event(event.data, tz=self._tz)
        except WhatwattInvalidResponseError as err:
            _LOGGER.debug("Skipping unreadable live event from %s: %s", self._client.host, err)
            return None
        zone, local = self._tz, report.local_time
        if isinstance(zone, DeviceZone) and local is not None and zone.observe(local):
            # An event is the device's current time: a new offset (DST) applies at once.
            report = replace(report, timestamp=zone.to_utc(local))
        return report

    def close(self) -> None:
        """Close the stream; a running ``events()`` loop ends without error."""
        self._closed = True
        if self._response is not None:
            self._response.close()


def backoff_delay(attempt: int) -> float:
    """Return the jittered wait before reconnection attempt ``attempt`` (0-based)."""
    ceiling = min(BACKOFF_CEILING, BACKOFF_BASE * 2 ** min(attempt, 16))
    return float(ceiling * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not cryptography


@dataclass(slots=True)
class TakeoverWatch:
    """The device serves one stream: clean closes of it tell another client takes it over."""

    drops: list[datetime] = field(default_factory=list)  # clean closes the next try proved
    closed_at: datetime | None = None  # the last clean close, until the next try tells
    taken_over: bool = False
    held_since: datetime | None = None  # events flow without a drop since then

    def settle(self, opened: bool) -> None:
        """Judge the last clean close by the attempt after it: a drop if the stream opened."""
        if self.closed_at is not None and opened:
            self.drops.append(self.closed_at)
        self.closed_at = None

    def closed(self, now: datetime) -> int | None:
        """Count a clean close; return the drops when it is a take-over, else None."""
        self.closed_at = now
        self.drops = [t for t in self.drops if now - t < TAKEOVER_WINDOW]
        drops = len(self.drops) + 1
        return drops if drops >= TAKEOVER_DROPS else None

    def held(self, now: datetime) -> bool:
        """Take an event; return True when a take-over ends (the stream held long enough)."""
        if self.held_since is None:
            self.held_since = now
        elif self.taken_over and now - self.held_since >= TAKEOVER_HOLD:
            self.taken_over = False
            self.drops.clear()
            self.closed_at = None
            return True
        return False
