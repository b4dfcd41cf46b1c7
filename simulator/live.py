"""``GET /api/v1/live``: Server-Sent Events, one subscriber at a time."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

_CUT = "\x00cut"  # the queue item that breaks the stream off mid-event


class LiveHub:
    """Owns the single live stream; a new subscriber makes the previous one close.

    ``clients`` counts open streams (0 or 1); ``changed`` is set whenever that changes so
    tests can await it instead of sleeping. ``newline`` (LF or CRLF) and
    ``data_space`` (a space after ``data:`` or not) choose the framing of the events sent.
    ``refuse_status`` (e.g. 503) makes the stream alone refuse new subscribers with that status
    while the rest of the API answers — a live feed that fails while REST works.
    ``cut_mid_event()`` breaks the current stream off in the middle of an event, as a reboot does
    while the device writes: half an event, then the connection goes without the end of the
    response.
    """

    def __init__(self) -> None:
        """Start with no subscriber."""
        self._current: tuple[asyncio.Queue[str | None], asyncio.Event] | None = None
        self.clients = 0
        self.connections_total = 0
        self.changed = asyncio.Event()
        self.malformed = False
        self.newline = "\n"
        self.data_space = True
        self.refuse_status: int | None = None

    @property
    def has_subscriber(self) -> bool:
        """Return True while a stream is open (an event published now is sent)."""
        return self._current is not None

    def _set_clients(self, count: int) -> None:
        self.clients = count
        self.changed.set()

    async def wait_clients(self, count: int, limit: float = 5.0) -> None:
        """Wait until exactly ``count`` streams are open (raise TimeoutError otherwise)."""
        async with asyncio.timeout(limit):
            while True:
                self.changed.clear()
                if self.clients == count:
                    return
                await self.changed.wait()

    def publish(self, event: dict[str, Any]) -> None:
        """Queue one ``live`` event for the current subscriber, if any."""
        if self._current is None:
            return
        data = "{not json" if self.malformed else json.dumps(event, separators=(",", ":"))
        nl, space = self.newline, " " if self.data_space else ""
        self._current[0].put_nowait(f"event: live{nl}data:{space}{data}{nl}{nl}")

    def publish_raw(self, text: str) -> None:
        """Queue raw stream text for the current subscriber, if any (no framing added)."""
        if self._current is not None:
            self._current[0].put_nowait(text)

    def cut_mid_event(self) -> None:
        """Send the current subscriber half an event, then break its connection off."""
        if self._current is not None:
            self._current[0].put_nowait(_CUT)
            self._current = None

    def drop(self) -> None:
        """Close the current stream (a reboot or a new subscriber)."""
        if self._current is not None:
            self._current[0].put_nowait(None)
            self._current[1].set()
            self._current = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one subscriber until it leaves or is replaced."""
        if self.refuse_status is not None:
            return web.json_response(
                {"error": "busy", "message": "live stream unavailable"}, status=self.refuse_status
            )
        self.drop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        gone = asyncio.Event()
        me = (queue, gone)
        self._current = me
        self.connections_total += 1
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store, no-cache",
                "X-Content-Type-Options": "nosniff",
            }
        )
        response.force_close()
        await response.prepare(request)
        self._set_clients(self.clients + 1)
        transport = request.transport
        try:
            while not gone.is_set():
                item = await queue.get()
                if item is None or transport is None or transport.is_closing():
                    break
                if item == _CUT:
                    await response.write(b'event: live\ndata: {"P_In":1.2')
                    transport.abort()  # no end chunk: the client reads a broken-off response
                    break
                await response.write(item.encode())
        except ConnectionError:
            pass  # the client went away while we wrote
        finally:
            if self._current is me:
                self._current = None
            self._set_clients(self.clients - 1)
        return response
