"""Fixtures of the API tests: an HTTP session, and hand-rolled devices on 127.0.0.1."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from .helpers import Handler


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def fake_device(socket_enabled: None) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Start an aiohttp device answering ``{(method, path): handler}``; return its host:port.

    Keywords go to ``web.AppRunner``. Every device started is cleaned up at teardown.
    """
    runners: list[web.AppRunner] = []

    async def start(routes: dict[tuple[str, str], Handler], **runner_options: Any) -> str:
        app = web.Application()
        for (method, path), handler in routes.items():
            app.router.add_route(method, path, handler)
        runner = web.AppRunner(app, **runner_options)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return f"127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()
