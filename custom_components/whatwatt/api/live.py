"""Server-Sent Events reader for ``GET /api/v1/live`` (one event per meter telegram)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
import logging
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
from .parse_live import parse_live_event

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from datetime import tzinfo

    from .client import WhatwattClient
    from .models import Report

_LOGGER = logging.getLogger(__name__)

LIVE_PATH: Final = "/api/v1/live"
_DISPATCHED: Final = frozenset({"", "live"})


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched Server-Sent Event: its name (``""`` when unnamed) and data."""

    event: str
    data: str


class SseParser:
    r"""Incremental SSE decoder: feed bytes, get complete events.

    Lines end with LF, CRLF or CR (a CRLF split across two chunks counts once). ``data:`` with
    or without a space; several data lines are joined with ``\\n``; comments are ignored; an
    event is dispatched on a blank line when it has data.
    """

    def __init__(self) -> None:
        """Start with empty buffers."""
        self._buffer = b""
        self._skip_lf = False
        self._data: list[str] = []
        self._event = ""

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
            cr = buffer.find(b"\r", start)
            lf = buffer.find(b"\n", start)
            ends = [pos for pos in (cr, lf) if pos >= 0]
            if not ends:
                break
            end = min(ends)
            line = buffer[start:end]
            if buffer[end : end + 1] == b"\r":
                if end + 1 < length and buffer[end + 1 : end + 2] == b"\n":
                    start = end + 2
                elif end + 1 == length:
                    start = end + 1
                    self._skip_lf = True
                else:
                    start = end + 1
            else:
                start = end + 1
            event = self._line(line.decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
        self._buffer = buffer[start:]
        return events

    def _line(self, line: str) -> SseEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None  # id, retry and unknown fields are ignored

    def _dispatch(self) -> SseEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return SseEvent(event, "\n".join(data))


class LiveStream:
    """Reader of the device's live stream; the caller owns the reconnection policy.

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
        response = await self._client.open(
            "GET", LIVE_PATH, total_timeout=None, read_timeout=self._idle_timeout
        )
        self._response = response
        try:
            if response.status != 200:
                await self._raise_status(response)
            self.streams_opened += 1
            parser = SseParser()
            while True:
                chunk = await self._read(response)
                if self._closed:
                    return
                if not chunk:
                    raise WhatwattStreamClosedError("the device closed the live stream")
                for event in parser.feed(chunk):
                    report = self._report(event)
                    if report is not None:
                        self.events_received += 1
                        yield report
                        if self._closed:
                            return
        finally:
            self._response = None
            response.close()

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        try:
            async with asyncio.timeout(self._idle_timeout):
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
