"""The client's SD-card calls: listing and streamed download, against the simulator and worse."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from aiohttp import web
import pytest

from custom_components.whatwatt.api import (
    SdFile,
    WhatwattClient,
    WhatwattConnectionError,
    WhatwattRequestError,
    WhatwattTimeoutError,
    WhatwattUnavailableError,
)

from .helpers import start_device

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

PASSWORD = "sd-secret-1"


async def _device(simulator_factory, session, **config):
    return await start_device(simulator_factory, session, PASSWORD, sd_card=True, **config)


async def test_listing_and_download(simulator_factory, session) -> None:
    """Behind Digest auth: the root, a folder, and a file in several chunks, byte for byte."""
    sim, client = await _device(simulator_factory, session)
    content = b"RID,TIME,EAP_T\r\n" + b"".join(
        f'{n},"2026-01-15T10:00:{n % 60:02d}Z",{n}.5\r\n'.encode() for n in range(20000)
    )
    sim.sdcard.files["20260115.CSV"] = bytearray(content)
    sim.sdcard.files["SYSTEM~1/INDEX.DAT"] = bytearray(b"x")
    assert await client.get_sdcard_listing() == (
        SdFile("20260115.CSV", len(content)),
        SdFile("SYSTEM~1", 0, is_dir=True),
    )
    assert await client.get_sdcard_listing("SYSTEM~1/") == (SdFile("INDEX.DAT", 1),)
    chunks = [chunk async for chunk in client.stream_sdcard_file("20260115.CSV", chunk_size=4096)]
    assert b"".join(chunks) == content
    assert len(chunks) > 10
    assert max(len(chunk) for chunk in chunks) <= 4096
    paths = [(r.path, r.status) for r in sim.requests if r.status != 401]
    assert paths == [("/sdcard/", 200), ("/sdcard/SYSTEM~1/", 200), ("/sdcard/20260115.CSV", 200)]


async def test_stop_early_then_carry_on(simulator_factory, session) -> None:
    """Closing the stream after the first chunk leaves the client usable."""
    sim, client = await _device(simulator_factory, session)
    sim.sdcard.files["20260115.CSV"] = bytearray(b"y" * 300_000)
    async with contextlib.aclosing(client.stream_sdcard_file("20260115.CSV")) as chunks:
        async for _chunk in chunks:
            break
    assert (await client.get_system()).device_id == "A1B2C3D4E5F6"


async def test_no_card_missing_file(simulator_factory, session) -> None:
    """503 without a mounted card (listing and file); 404 for a file that is not there."""
    sim, client = await _device(simulator_factory, session)
    with pytest.raises(WhatwattRequestError) as err:
        [chunk async for chunk in client.stream_sdcard_file("20990101.CSV")]
    assert err.value.status == 404
    sim.sdcard.mounted = False
    with pytest.raises(WhatwattUnavailableError):
        await client.get_sdcard_listing()
    with pytest.raises(WhatwattUnavailableError):
        [chunk async for chunk in client.stream_sdcard_file("20260115.CSV")]


@pytest.fixture
async def stalling_device(fake_device) -> AsyncIterator[str]:
    """A server that sends part of a file, then stalls (``/slow``) or hangs up (``/cut``)."""

    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100000"})
        await response.prepare(request)
        await response.write(b"a" * 1000)
        await release.wait()
        return response

    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100000"})
        await response.prepare(request)
        await response.write(b"b" * 1000)
        assert request.transport is not None
        request.transport.close()
        return response

    yield await fake_device(
        {("GET", "/sdcard/slow"): slow, ("GET", "/sdcard/cut"): cut},
        shutdown_timeout=0.1,
        handler_cancellation=True,
    )
    release.set()


async def test_stalled_or_broken_download(stalling_device, session) -> None:
    """A device that stops sending times out; one that hangs up is a connection error."""
    client = WhatwattClient(session, stalling_device)
    with pytest.raises(WhatwattTimeoutError):
        [chunk async for chunk in client.stream_sdcard_file("slow", read_timeout=0.2)]
    with pytest.raises(WhatwattConnectionError):
        [chunk async for chunk in client.stream_sdcard_file("cut")]
