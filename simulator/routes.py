"""REST handlers of the simulated device (``/api/v1/...``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .actions import ActionError, validate_definition
from .responses import BodyError, error_response, json_response, read_json
from .settings import (
    METER_SPEC,
    MQTT_SPEC,
    SETTINGS_SPEC,
    SettingsError,
    Spec,
    defaults,
    empties,
    merge,
)

if TYPE_CHECKING:
    from .server import Simulator

SIM_KEY: web.AppKey[Simulator] = web.AppKey("simulator")


def _sim(request: web.Request) -> Simulator:
    return request.app[SIM_KEY]


def _bad(err: SettingsError) -> web.Response:
    return error_response(400, "invalid_value", str(err), {"X-Invalid-Key": err.key})


async def get_system(request: web.Request) -> web.Response:
    """``GET /api/v1/system`` (hostile when that fault is on)."""
    sim = _sim(request)
    system = sim.state.system_json()
    if sim.faults.hostile is not None:
        system = sim.faults.hostile.system(system)
    return json_response(system)


async def get_report(request: web.Request) -> web.Response:
    """``GET /api/v1/report`` (Plus); a pending energy glitch shows in this one answer."""
    sim = _sim(request)
    report = sim.state.report_json()
    if sim.state.report is not None:
        report = sim.glitched("report", report)
    return json_response(sim.hostile_report(report))


async def get_report_objects(request: web.Request) -> web.Response:
    """``GET /api/v1/report/objects`` (Plus): no raw COSEM objects are simulated."""
    del request
    return json_response({"objects": []})


async def get_variables(request: web.Request) -> web.Response:
    """``GET /api/v1/variables`` (Plus): every template variable as a string, None → "null"."""
    try:
        from .variables import build_variables  # noqa: PLC0415 - provided by another module
    except ImportError:
        return error_response(500, "not_implemented", "Variables are not available")
    values = build_variables(_sim(request).state)
    return json_response([{k: ("null" if v is None else str(v))} for k, v in values.items()])


async def get_live(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/live``: Server-Sent Events."""
    return await _sim(request).live.handle(request)


# -- settings resources ----------------------------------------------------------------


async def _merged(
    request: web.Request, spec: Spec, current: dict[str, Any], fresh: dict[str, Any] | None
) -> dict[str, Any] | web.Response:
    """Read the body and merge it into ``current`` (PUT) or ``fresh`` (POST); or the error reply."""
    try:
        return merge(current if fresh is None else fresh, await read_json(request), spec)
    except BodyError as err:
        return err.response
    except SettingsError as err:
        return _bad(err)


async def _settings_write(request: web.Request, *, replace: bool) -> web.Response:
    sim = _sim(request)
    state = sim.state
    new = await _merged(
        request, SETTINGS_SPEC, state.settings, empties(SETTINGS_SPEC) if replace else None
    )
    if isinstance(new, web.Response):
        return new
    if replace and not new["system"]["host_name"]:
        new["system"]["host_name"] = state.settings["system"]["host_name"]
    if new["system"]["power_save"] and state.ethernet_up:
        return _bad(SettingsError("system.power_save", "not allowed while Ethernet is up"))
    state.settings = new
    state.fix_ntp()
    sim.settings_written()
    return json_response(state.public_settings())


async def get_settings(request: web.Request) -> web.Response:
    """``GET /api/v1/settings`` (hostile when that fault is on)."""
    sim = _sim(request)
    settings = sim.state.public_settings()
    if sim.faults.hostile is not None:
        settings = sim.faults.hostile.settings(settings)
    return json_response(settings)


async def put_settings(request: web.Request) -> web.Response:
    """``PUT /api/v1/settings``: merge."""
    return await _settings_write(request, replace=False)


async def post_settings(request: web.Request) -> web.Response:
    """``POST /api/v1/settings``: replace."""
    return await _settings_write(request, replace=True)


async def _mqtt_write(request: web.Request, *, replace: bool) -> web.Response:
    sim = _sim(request)
    state = sim.state
    new = await _merged(
        request, MQTT_SPEC, state.mqtt_settings, empties(MQTT_SPEC) if replace else None
    )
    if isinstance(new, web.Response):
        return new
    state.mqtt_settings = new
    sim.mqtt_settings_written()
    return json_response(state.public_mqtt_settings())


async def get_mqtt_settings(request: web.Request) -> web.Response:
    """``GET /api/v1/mqtt/settings``."""
    return json_response(_sim(request).state.public_mqtt_settings())


async def put_mqtt_settings(request: web.Request) -> web.Response:
    """``PUT /api/v1/mqtt/settings``: merge (secrets survive, ``null`` deletes certs/keys)."""
    return await _mqtt_write(request, replace=False)


async def post_mqtt_settings(request: web.Request) -> web.Response:
    """``POST /api/v1/mqtt/settings``: replace."""
    return await _mqtt_write(request, replace=True)


async def _meter_write(request: web.Request, *, replace: bool) -> web.Response:
    state = _sim(request).state
    new = await _merged(
        request, METER_SPEC, state.meter_settings, defaults(METER_SPEC) if replace else None
    )
    if isinstance(new, web.Response):
        return new
    state.meter_settings = new
    return json_response(state.public_meter_settings())


async def get_meter_settings(request: web.Request) -> web.Response:
    """``GET /api/v1/meter/settings``."""
    return json_response(_sim(request).state.public_meter_settings())


async def put_meter_settings(request: web.Request) -> web.Response:
    """``PUT /api/v1/meter/settings``: merge."""
    return await _meter_write(request, replace=False)


async def post_meter_settings(request: web.Request) -> web.Response:
    """``POST /api/v1/meter/settings``: replace (omitted keys → factory defaults)."""
    return await _meter_write(request, replace=True)


# -- maintenance -----------------------------------------------------------------------


async def _answer_then(request: web.Request, restore: bool) -> web.StreamResponse:
    sim = _sim(request)
    response = web.StreamResponse(status=204, headers={"Cache-Control": "no-store"})
    await response.prepare(request)
    await response.write_eof()
    sim.schedule_reboot(restore=restore)
    return response


async def post_reboot(request: web.Request) -> web.StreamResponse:
    """``POST /api/v1/reboot``: 204, then the device goes away for ``reboot_downtime``."""
    return await _answer_then(request, restore=False)


async def post_restore(request: web.Request) -> web.StreamResponse:
    """``POST /api/v1/restore``: 204, factory reset, then reboot."""
    return await _answer_then(request, restore=True)


# -- actions ---------------------------------------------------------------------------


def _action_error(err: ActionError) -> web.Response:
    return error_response(err.status, err.error, err.message)


async def get_actions(request: web.Request) -> web.Response:
    """``GET /api/v1/actions`` (Plus): 404 when none are defined."""
    actions = _sim(request).state.actions
    if actions is None:
        return error_response(404, "not_found", "No actions defined")
    return json_response(actions)


async def post_actions(request: web.Request) -> web.Response:
    """``POST /api/v1/actions`` (Plus): replace the definition."""
    try:
        body = await read_json(request, limit=8191)
        definition = validate_definition(body)
    except BodyError as err:
        return err.response
    except ActionError as err:
        return _action_error(err)
    _sim(request).state.actions = definition
    return json_response(definition)


async def delete_actions(request: web.Request) -> web.Response:
    """``DELETE /api/v1/actions`` (Plus) → 204."""
    _sim(request).state.actions = None
    return web.Response(status=204, headers={"Cache-Control": "no-store"})


async def call_action(request: web.Request) -> web.Response:
    """``POST /api/v1/actions/call?id=`` (Plus) → 202 ``{"status_ids": [...]}`` + Location."""
    sim = _sim(request)
    action_id = request.query.get("id", "")
    if not action_id:
        return error_response(400, "invalid_request", "Query parameter id is required")
    try:
        ids = sim.actions.call(sim.state.actions, action_id)
    except ActionError as err:
        return _action_error(err)
    location = "/api/v1/actions/status?id=" + ",".join(str(i) for i in ids)
    return json_response({"status_ids": ids}, 202, {"Location": location})


async def action_status(request: web.Request) -> web.Response:
    """``GET /api/v1/actions/status?id=1,2`` (Plus)."""
    try:
        ids = [int(part) for part in request.query.get("id", "").split(",") if part.strip()]
    except ValueError:
        return error_response(400, "invalid_request", "id must be a list of integers")
    if not ids:
        return error_response(400, "invalid_request", "Query parameter id is required")
    return json_response(_sim(request).actions.status(ids))


def add_routes(app: web.Application) -> None:
    """Register every ``/api/v1`` route."""
    r = app.router
    r.add_get("/api/v1/system", get_system, allow_head=False)
    r.add_get("/api/v1/report", get_report, allow_head=False)
    r.add_get("/api/v1/report/objects", get_report_objects, allow_head=False)
    r.add_get("/api/v1/variables", get_variables, allow_head=False)
    r.add_get("/api/v1/live", get_live, allow_head=False)
    for path, (get, put, post) in {
        "/api/v1/settings": (get_settings, put_settings, post_settings),
        "/api/v1/mqtt/settings": (get_mqtt_settings, put_mqtt_settings, post_mqtt_settings),
        "/api/v1/meter/settings": (get_meter_settings, put_meter_settings, post_meter_settings),
    }.items():
        r.add_get(path, get, allow_head=False)
        r.add_put(path, put)
        r.add_post(path, post)
    r.add_post("/api/v1/reboot", post_reboot)
    r.add_post("/api/v1/restore", post_restore)
    r.add_get("/api/v1/actions", get_actions, allow_head=False)
    r.add_post("/api/v1/actions", post_actions)
    r.add_delete("/api/v1/actions", delete_actions)
    r.add_post("/api/v1/actions/call", call_action)
    r.add_get("/api/v1/actions/status", action_status, allow_head=False)
