"""WhatwattClient against a hand-rolled aiohttp device: reply styles and error mapping."""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver
import pytest

from custom_components.whatwatt.api import (
    WhatwattAuthError,
    WhatwattBusyError,
    WhatwattClient,
    WhatwattConnectionError,
    WhatwattInvalidResponseError,
    WhatwattLicenseError,
    WhatwattRequestError,
    WhatwattTimeoutError,
    WhatwattUnavailableError,
)

if TYPE_CHECKING:
    from .helpers import Handler

SYSTEM = {"device": {"id": "A1B2C3D4E5F6", "firmware": "1.10.3", "license": {"type": "PLUS"}}}


def reply(status: int = 200, body: Any = None, *, text: str | None = None, **kw: Any) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        if text is not None:
            return web.Response(status=status, text=text, **kw)
        if body is None:
            return web.Response(status=status, **kw)
        return web.json_response(body, status=status, **kw)

    return handler


async def test_call_action_reply_styles(fake_device, session) -> None:
    seen: list[str] = []

    async def location_only(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        return web.Response(status=202, headers={"Location": "/api/v1/actions/status?id=5,6"})

    host = await fake_device({("POST", "/api/v1/actions/call"): location_only})
    client = WhatwattClient(session, host)
    assert await client.call_action("boiler on/1") == [5, 6]
    assert seen == ["/api/v1/actions/call?id=boiler%20on%2F1"]

    host = await fake_device({("POST", "/api/v1/actions/call"): reply(202, {"status_ids": [9]})})
    assert await WhatwattClient(session, host).call_action("x") == [9]

    host = await fake_device(
        {
            ("POST", "/api/v1/actions/call"): reply(
                202, {"status_ids": [3]}, headers={"Location": "/api/v1/actions/status"}
            )
        }
    )
    assert await WhatwattClient(session, host).call_action("x") == [3]


@pytest.mark.parametrize(
    "handler",
    [
        reply(202),
        reply(202, {"status_ids": ["1"]}),
        reply(202, {"status_ids": [True]}),
        reply(202, {"other": 1}),
        reply(202, [1, 2]),
        reply(202, text="not json"),
        reply(202, headers={"Location": "/api/v1/actions/status?id=a,b"}),
    ],
)
async def test_call_action_without_ids_is_invalid(fake_device, session, handler) -> None:
    host = await fake_device({("POST", "/api/v1/actions/call"): handler})
    with pytest.raises(WhatwattInvalidResponseError):
        await WhatwattClient(session, host).call_action("x")


async def test_json_with_any_content_type_and_variables_shapes(fake_device, session) -> None:
    host = await fake_device(
        {
            ("GET", "/api/v1/system"): reply(
                text='{"device": {"id": "A1B2C3D4E5F6"}}', content_type="text/plain"
            ),
            ("GET", "/api/v1/variables"): reply(body={"a": "1", "b": None, "c": 2}),
            ("GET", "/api/v1/meter/settings"): reply(body=[1]),
        }
    )
    client = WhatwattClient(session, host)
    assert (await client.get_system()).device_id == "A1B2C3D4E5F6"
    assert await client.get_variables() == {"a": "1", "b": "null", "c": "2"}
    with pytest.raises(WhatwattInvalidResponseError, match="expected a JSON object"):
        await client.get_meter_settings()
    assert client.requests_sent == 3


@pytest.mark.parametrize("body", [[1, 2], "text", [{"a": "1"}, 3]])
async def test_variables_bad_shape(fake_device, session, body) -> None:
    host = await fake_device({("GET", "/api/v1/variables"): reply(body=body)})
    with pytest.raises(WhatwattInvalidResponseError):
        await WhatwattClient(session, host).get_variables()


async def test_actions_empty_body_means_none(fake_device, session) -> None:
    host = await fake_device({("GET", "/api/v1/actions"): reply(200, text="")})
    assert await WhatwattClient(session, host).get_actions() == {}


@pytest.mark.parametrize(
    ("path", "status", "body", "error", "extra"),
    [
        ("/api/v1/report", 404, None, WhatwattLicenseError, {}),
        ("/api/v1/report/objects", 404, {"error": "license_required"}, WhatwattLicenseError, {}),
        ("/api/v1/variables", 404, {"message": "License required"}, WhatwattLicenseError, {}),
        ("/api/v1/actions/status", 404, {"error": "x", "message": "no"}, WhatwattRequestError, {}),
        ("/api/v1/system", 404, None, WhatwattRequestError, {"status": 404}),
        (
            "/api/v1/system",
            500,
            {"error": "internal", "message": "boom"},
            WhatwattRequestError,
            {"status": 500, "error": "internal", "message": "boom"},
        ),
        ("/api/v1/system", 409, ["odd"], WhatwattRequestError, {"error": None}),
        ("/api/v1/system", 418, {"error": 1, "message": 2}, WhatwattRequestError, {"error": None}),
        ("/api/v1/system", 429, None, WhatwattBusyError, {}),
        ("/api/v1/system", 503, None, WhatwattUnavailableError, {}),
        ("/api/v1/system", 200, "not an object", WhatwattInvalidResponseError, {}),
    ],
)
async def test_error_mapping(fake_device, session, path, status, body, error, extra) -> None:
    host = await fake_device({("GET", path): reply(status, body)})
    client = WhatwattClient(session, host)
    call = {
        "/api/v1/report": client.get_report,
        "/api/v1/report/objects": lambda: client._request("GET", "/api/v1/report/objects"),
        "/api/v1/variables": client.get_variables,
        "/api/v1/actions/status": lambda: client.get_action_status([1]),
        "/api/v1/system": client.get_system,
    }[path]
    with pytest.raises(error) as info:
        await call()
    for name, value in extra.items():
        assert getattr(info.value, name) == value


async def test_empty_status_query_costs_nothing(session) -> None:
    client = WhatwattClient(session, "127.0.0.1:9")
    assert await client.get_action_status([]) == []
    assert client.requests_sent == 0


async def test_refused_and_reset(fake_device, session) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    client = WhatwattClient(session, f"127.0.0.1:{port}")
    with pytest.raises(WhatwattConnectionError, match="cannot connect"):
        await client.get_system()
    assert client.requests_sent == 0

    async def hang_up(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    host = await fake_device({("GET", "/api/v1/system"): hang_up})
    client = WhatwattClient(session, host)
    with pytest.raises(WhatwattConnectionError) as info:
        await client.get_system()
    assert not isinstance(info.value, WhatwattTimeoutError)
    assert client.requests_sent == 1


async def test_body_cut_short_is_a_connection_error(fake_device, session) -> None:
    async def truncated(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b'{"device":')
        assert request.transport is not None
        request.transport.close()
        return response

    host = await fake_device({("GET", "/api/v1/system"): truncated})
    with pytest.raises(WhatwattConnectionError, match="error reading"):
        await WhatwattClient(session, host).get_system()


class _NoDns(AbstractResolver):
    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> Any:
        raise OSError(f"cannot resolve {host}")

    async def close(self) -> None:
        return None


async def test_dns_failure_is_a_connection_error() -> None:
    connector = aiohttp.TCPConnector(resolver=_NoDns())
    async with aiohttp.ClientSession(connector=connector) as dns_session:
        client = WhatwattClient(dns_session, "whatwatt-c3d4e5.local")
        with pytest.raises(WhatwattConnectionError, match="cannot connect"):
            await client.get_system()


async def test_client_basics(session) -> None:
    client = WhatwattClient(session, "[FE80::1]:8080", "", timeout=3)
    assert client.host == "[fe80::1]:8080"
    assert client.base_url == "http://[fe80::1]:8080"
    assert client.session is session
    assert client._auth.has_password is False  # empty password = none
    with pytest.raises(ValueError):
        WhatwattClient(session, "http://x")


async def test_unsupported_challenge_is_an_auth_error(fake_device, session) -> None:
    host = await fake_device(
        {("GET", "/api/v1/system"): reply(401, headers={"WWW-Authenticate": "Bearer realm=x"})}
    )
    client = WhatwattClient(session, host, "pw")
    with pytest.raises(WhatwattAuthError, match="unsupported authentication challenge: bearer"):
        await client.get_system()
    assert client.requests_sent == 1


async def test_body_that_stalls_is_a_timeout(fake_device, session) -> None:
    release = asyncio.Event()

    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b'{"device":')
        await release.wait()
        return response

    host = await fake_device({("GET", "/api/v1/system"): stall})
    try:
        with pytest.raises(WhatwattTimeoutError):
            await WhatwattClient(session, host, timeout=0.3).get_system()
    finally:
        release.set()


async def test_actions_other_errors_propagate(fake_device, session) -> None:
    host = await fake_device({("GET", "/api/v1/actions"): reply(500, {"error": "internal"})})
    with pytest.raises(WhatwattRequestError) as info:
        await WhatwattClient(session, host).get_actions()
    assert info.value.status == 500
