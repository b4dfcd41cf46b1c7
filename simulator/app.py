"""The aiohttp application: device rules (delay, origin, faults, auth, licence) and routes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from .control import add_control_routes
from .hostile import stream_huge_body
from .responses import BASE_HEADERS, JSON_TYPE, error_response
from .routes import SIM_KEY, add_routes
from .sdcard import add_sdcard_routes

if TYPE_CHECKING:
    from .server import Simulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LICENSE_GATED: frozenset[str] = frozenset(
    {
        "/api/v1/report",
        "/api/v1/report/objects",
        "/api/v1/variables",
        "/api/v1/actions",
        "/api/v1/actions/call",
        "/api/v1/actions/status",
        "/api/v1/template/test",
    }
)
MALFORMED_BODY = b'{"report": {"id": 1, "interval": 1.0,'


def _origin_allowed(origin: str, host_name: str, device_id: str) -> bool:
    allowed = {
        f"http://{host_name}",
        f"http://{host_name}.local",
        f"http://whatwatt-{device_id[-6:]}.local",
    }
    return origin.rstrip("/").lower() in {a.lower() for a in allowed}


def _gate(sim: Simulator, request: web.Request) -> web.Response | None:
    faults = sim.faults
    state = sim.state
    origin = request.headers.get("Origin")
    if origin is not None and not _origin_allowed(origin, state.host_name, state.device_id):
        return error_response(404, "not_found", "Not found")
    if faults.status_503:
        return error_response(503, "unavailable", "Service temporarily unavailable")
    if faults.status_429:
        return error_response(429, "too_many_requests", "Too many requests")
    return None


async def _device_rules(
    sim: Simulator, request: web.Request, handler: Handler
) -> web.StreamResponse:
    faults = sim.faults
    if faults.delay > 0:
        await asyncio.sleep(faults.delay)
    state = sim.state
    refused = _gate(sim, request)
    if refused is not None:
        return refused
    if faults.wrong_password:
        challenge = sim.auth.challenge(state.host_name)
        return error_response(
            401, "unauthorized", "Authentication required", {"WWW-Authenticate": challenge}
        )
    if state.protection_active:
        body = await request.read() if request.can_read_body else b""
        result = sim.auth.check(
            request.headers.get("Authorization"),
            method=request.method,
            uri=request.raw_path,
            body=body,
            realm=state.host_name,
            password=state.password,
        )
        if not result.ok:
            challenge = sim.auth.challenge(state.host_name, stale=result.stale)
            return error_response(
                401, "unauthorized", "Authentication required", {"WWW-Authenticate": challenge}
            )
    if request.path in LICENSE_GATED and not state.licensed:
        return error_response(404, "license_required", "License required")
    return await _dispatch(sim, request, handler)


async def _dispatch(sim: Simulator, request: web.Request, handler: Handler) -> web.StreamResponse:
    faults = sim.faults
    if request.path == "/api/v1/live":
        sim.record(request.method, request.path, 200)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status == 405:
            return error_response(405, "method_not_allowed", "Method not allowed")
        if exc.status == 404:
            return error_response(404, "not_found", "Not found")
        return error_response(exc.status, "error", exc.reason)
    if (
        faults.malformed
        and response.status == 200
        and isinstance(response, web.Response)
        and response.content_type == "application/json"
    ):
        response.body = MALFORMED_BODY
    return response


async def _hostile_body(
    sim: Simulator, request: web.Request, response: web.StreamResponse
) -> web.StreamResponse:
    """Return the answer as the ``hostile`` fault makes it: nested or huge JSON under ``/api/``."""
    hostile = sim.faults.hostile
    if (
        hostile is None
        or not request.path.startswith("/api/")
        or not isinstance(response, web.Response)
        or response.content_type != "application/json"
    ):
        return response
    if hostile.has("huge_body") and response.status == 200:
        return await stream_huge_body(request, hostile.body_bytes, sim.count_hostile_bytes)
    body = hostile.rest_body(response.status)
    if body is not None:
        response.body = body
    return response


def build_app(sim: Simulator) -> web.Application:
    """Return the device's aiohttp application bound to ``sim``."""

    @web.middleware
    async def device_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sim/"):
            return await handler(request)
        status = 0
        try:
            response = await _hostile_body(sim, request, await _device_rules(sim, request, handler))
            status = response.status
        finally:
            if request.path != "/api/v1/live" or status != 200:
                sim.record(request.method, request.path, status)
        if response.prepared:
            return response
        for key, value in BASE_HEADERS.items():
            response.headers.setdefault(key, value)
        if isinstance(response, web.Response) and response.content_type == "application/json":
            response.headers["Content-Type"] = JSON_TYPE
        return response

    app = web.Application(middlewares=[device_middleware], client_max_size=1024 * 1024)
    app[SIM_KEY] = sim
    add_routes(app)
    add_control_routes(app)
    add_sdcard_routes(app)
    return app
