"""SSE framing: the incremental parser and LiveStream against a hand-rolled aiohttp server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from aiohttp import web
import pytest

from custom_components.whatwatt.api import (
    LiveStream,
    WhatwattAuthError,
    WhatwattClient,
    WhatwattConnectionError,
    WhatwattStreamClosedError,
    WhatwattTimeoutError,
    WhatwattUnavailableError,
)
from custom_components.whatwatt.api.live import SseEvent, SseParser

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .helpers import Handler

EVENT = b'{"P_In":1.204,"P_Out":0,"V_P1":231.4,"T":2,"Date":"2026-01-15","Time":"09:12:40"}'


def _feed_all(chunks: list[bytes]) -> list[SseEvent]:
    parser = SseParser()
    return [event for chunk in chunks for event in parser.feed(chunk)]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_line_endings(newline: bytes) -> None:
    text = newline.join([b"event: live", b"data: {}", b"", b'data:{"a":1}', b"", b""])
    assert _feed_all([text]) == [SseEvent("live", "{}"), SseEvent("", '{"a":1}')]


def test_every_split_point_gives_the_same_events() -> None:
    stream = b": hello\r\nevent: live\r\ndata: a\r\ndata:b\r\n\r\ndata: c\r\rdata: d\n\n"
    expected = [SseEvent("live", "a\nb"), SseEvent("", "c"), SseEvent("", "d")]
    assert _feed_all([stream]) == expected
    for cut in range(1, len(stream)):
        assert _feed_all([stream[:cut], stream[cut:]]) == expected, cut
    assert _feed_all([bytes([byte]) for byte in stream]) == expected


def test_fields_comments_and_empty_events() -> None:
    parser = SseParser()
    events = parser.feed(
        b":comment\nid: 7\nretry: 1000\nunknown: x\nevent: live\n\n"  # no data: nothing sent
        b"data\n\n"  # a field without a colon carries an empty value
        b"data:  two spaces\n\n"
        b"event: other\ndata: x\n\n"
    )
    assert events == [SseEvent("", ""), SseEvent("", " two spaces"), SseEvent("other", "x")]
    assert parser.feed(b"data: partial") == []
    assert parser.feed(b"\n") == []
    assert parser.feed(b"\n") == [SseEvent("", "partial")]


# --- a hand-rolled device ------------------------------------------------------------------


@pytest.fixture
def serve(fake_device) -> Callable[[Handler], Awaitable[str]]:
    """Start a device with one handler for /api/v1/live; return its host:port."""

    async def start(handler: Handler) -> str:
        return await fake_device({("*", "/api/v1/live"): handler}, handler_cancellation=True)

    return start


def _streamer(chunks: list[bytes], *, then_close: bool = True, hold: asyncio.Event | None = None):
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in chunks:
            await response.write(chunk)
        if hold is not None:
            await hold.wait()
        if then_close:
            await response.write_eof()
        return response

    return handler


async def _collect(stream: LiveStream, count: int) -> list:
    reports = []
    async for report in stream.events():
        reports.append(report)
        if len(reports) == count:
            break
    return reports


async def test_crlf_no_space_and_multiline_data(serve, session) -> None:
    chunks = [
        b": welcome\r\n\r\n",
        b"event: live\r\ndata:" + EVENT + b"\r\n\r\n",
        b'data: {"P_In": 2.5,\n',
        b'data: "V_P1": 230.0}\n\n',
        b"event: other\ndata: " + EVENT + b"\n\n",  # not a live event: ignored
        b"data: not json\n\n",  # skipped, the stream goes on
        b'data: {"P_In": 3',
        b".75}\r",
        b"\n\r\n",
    ]
    host = await serve(_streamer(chunks))
    client = WhatwattClient(session, host)
    stream = LiveStream(client, idle_timeout=5, tz=timezone(timedelta(hours=1)))
    reports = await _collect(stream, 3)
    assert [r.values["power_import"] for r in reports] == [1.204, 2.5, 3.75]
    assert reports[0].values["voltage_l1"] == 231.4
    assert reports[0].tariff == 2
    assert reports[0].timestamp == datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)
    assert reports[1].values == {"power_import": 2.5, "voltage_l1": 230.0}
    assert stream.events_received == 3
    assert not stream.connected


async def test_stream_end_raises_connection_error(serve, session) -> None:
    host = await serve(_streamer([b"data: " + EVENT + b"\n\n"]))
    stream = LiveStream(WhatwattClient(session, host), idle_timeout=5)
    received = []

    async def consume() -> None:
        async for report in stream.events():
            received.append(report)  # noqa: PERF401

    with pytest.raises(WhatwattStreamClosedError, match="closed the live stream"):
        await consume()
    assert len(received) == 1


@pytest.mark.parametrize("how", ["close", "abort"])
async def test_broken_connection_is_not_a_clean_close(serve, session, how: str) -> None:
    """The connection goes in the middle of the stream (no end chunk): Wi-Fi drop, reboot."""

    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: " + EVENT + b"\n\n")
        assert request.transport is not None
        getattr(request.transport, how)()
        return response

    host = await serve(cut)
    stream = LiveStream(WhatwattClient(session, host), idle_timeout=5)
    received = []

    async def consume() -> None:
        async for report in stream.events():
            received.append(report)  # noqa: PERF401

    with pytest.raises(WhatwattConnectionError) as caught:
        await consume()
    assert not isinstance(caught.value, WhatwattStreamClosedError)
    assert not isinstance(caught.value, WhatwattTimeoutError)
    assert len(received) == 1
    assert stream.streams_opened == 1


async def test_idle_timeout(serve, session) -> None:
    hold = asyncio.Event()
    host = await serve(_streamer([b": nothing\n\n"], hold=hold))
    stream = LiveStream(WhatwattClient(session, host), idle_timeout=0.3)
    try:
        with pytest.raises(WhatwattTimeoutError, match="no live event"):
            await _collect(stream, 1)
    finally:
        hold.set()


async def test_close_ends_the_loop_quietly(serve, session) -> None:
    hold = asyncio.Event()
    host = await serve(_streamer([b"data: " + EVENT + b"\n\n"], hold=hold))
    stream = LiveStream(WhatwattClient(session, host), idle_timeout=5)
    reports = []
    try:
        async for report in stream.events():
            reports.append(report)
            assert stream.connected
            stream.close()
    finally:
        hold.set()
    assert len(reports) == 1
    stream.close()  # idempotent


async def test_close_from_another_task_while_waiting(serve, session) -> None:
    hold = asyncio.Event()
    host = await serve(_streamer([b"data: " + EVENT + b"\n\n"], hold=hold))
    stream = LiveStream(WhatwattClient(session, host), idle_timeout=5)
    first = asyncio.Event()

    async def consume() -> int:
        count = 0
        async for _ in stream.events():
            count += 1
            first.set()
        return count

    task = asyncio.create_task(consume())
    try:
        await asyncio.wait_for(first.wait(), 5)
        stream.close()
        assert await asyncio.wait_for(task, 5) == 1
    finally:
        hold.set()


async def test_503_and_missing_password(serve, session) -> None:
    async def busy(request: web.Request) -> web.Response:
        return web.json_response({"error": "busy", "message": "streaming unavailable"}, status=503)

    host = await serve(busy)
    with pytest.raises(WhatwattUnavailableError, match="streaming unavailable"):
        await _collect(LiveStream(WhatwattClient(session, host)), 1)

    async def protected(request: web.Request) -> web.Response:
        return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="x"'})

    host = await serve(protected)
    with pytest.raises(WhatwattAuthError):
        await _collect(LiveStream(WhatwattClient(session, host)), 1)


async def test_unexpected_success_status(serve, session) -> None:
    async def no_content(request: web.Request) -> web.Response:
        return web.Response(status=204)

    host = await serve(no_content)
    with pytest.raises(WhatwattConnectionError, match="unexpected live stream status 204"):
        await _collect(LiveStream(WhatwattClient(session, host)), 1)


async def test_error_body_cut_short(serve, session) -> None:
    async def broken(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=503, headers={"Content-Length": "50"})
        await response.prepare(request)
        await response.write(b'{"error":')
        assert request.transport is not None
        request.transport.close()
        return response

    host = await serve(broken)
    with pytest.raises(WhatwattUnavailableError, match="503"):
        await _collect(LiveStream(WhatwattClient(session, host)), 1)


async def test_headers_that_never_come_hit_the_idle_timeout(serve, session) -> None:
    release = asyncio.Event()

    async def silent(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(status=204)

    host = await serve(silent)
    client = WhatwattClient(session, host)
    try:
        with pytest.raises(WhatwattTimeoutError, match="did not answer in time"):
            await _collect(LiveStream(client, idle_timeout=0.3), 1)
    finally:
        release.set()
    assert not client._lock.locked()
