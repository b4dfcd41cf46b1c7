"""Small helpers shared by the fault tests: JSON requests and one SSE event at a time."""

from __future__ import annotations

import asyncio
from datetime import datetime
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp


async def get_json(session: aiohttp.ClientSession, url: str) -> Any:
    """GET ``url``; assert 200 and return the JSON body."""
    async with session.get(url) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json(content_type=None)


async def post_json(session: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, Any]:
    """POST ``body`` as JSON; return (status, JSON answer)."""
    async with session.post(url, json=body) as resp:
        return resp.status, await resp.json(content_type=None)


async def next_sse_event(
    resp: aiohttp.ClientResponse, limit: float = 5.0, line_ends: str = "\r\n"
) -> tuple[str, str]:
    """Read the next event of an open SSE stream; return its name and data.

    ``line_ends``: the characters a line may end in (``"\n"`` where only LF is right).
    """
    event = data = ""
    async with asyncio.timeout(limit):
        while True:
            line = (await resp.content.readline()).decode()
            if line == "":
                raise EOFError
            line = line.rstrip(line_ends)
            if not line:
                return event, data
            name, _, value = line.partition(":")
            if name == "event":
                event = value.strip()
            elif name == "data":
                data = value.strip()


async def next_live_event(resp: aiohttp.ClientResponse, limit: float = 5.0) -> dict[str, Any]:
    """Read the next ``live`` event of an open SSE stream and return its JSON payload."""
    event, data = await next_sse_event(resp, limit)
    assert event == "live"
    return json.loads(data)


def live_local(event: dict[str, Any]) -> datetime:
    """Return a live event's ``Date``/``Time`` as a naive local datetime."""
    return datetime.fromisoformat(f"{event['Date']}T{event['Time']}")


def stamp_local(date_time: str) -> datetime:
    """Return a ``date_time`` (local time with the misleading ``Z``) as a naive datetime."""
    return datetime.fromisoformat(date_time.removesuffix("Z"))
