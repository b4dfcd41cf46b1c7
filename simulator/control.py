"""``/_sim/...``: the simulator's own control endpoint (never subject to faults or auth).

- ``GET /_sim/faults``: every fault switch (``simulator.faults``) as JSON.
- ``POST /_sim/faults``: set any of them, e.g. ``{"clock_offset": 5400}``,
  ``{"timezone": "+02:00"}``, ``{"old_time_stamps": true}``,
  ``{"energy_glitch": {"kind": "garbage", "registers": ["1_8_0"], "value": -1}}``,
  ``{"hostile": ["extreme_times", "nested_json"]}``, ``{"wrong_password": true}``,
  ``{"offline": true}``; plus ``refuse_for`` (seconds). Unknown names or bad values → 400.
- ``POST /_sim/mqtt``: ``{"url": "mqtt://127.0.0.1:1883", "topic": null, "template": null}``
  points the MQTT client at a broker (``Simulator.configure_mqtt``: topic null → the default
  ``whatwatt/<DEVICE_ID>``, template null → the vendor's template; ``enable`` optional).
- ``POST /_sim/meter``: ``{"meter_id": "…", "serial": null, "start": 0.0}`` exchanges the meter
  (``Simulator.exchange_meter``; every field optional).
- ``POST /_sim/load``: ``{"kw": 3.6}`` imports 3.6 kW from now on (``meter.LoadSteps``: the
  register follows it exactly, for window averages that are easy to check); ``{"kw": null}``
  returns to the random walk.
- ``POST /_sim/license``, ``POST /_sim/telegram``, ``GET /_sim/requests``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web  # noqa: TC002 - aiohttp resolves handler annotations

from .meter import LoadSteps
from .responses import BodyError, error_response, json_response, read_json, read_json_object
from .routes import SIM_KEY

if TYPE_CHECKING:
    from .server import Simulator


def _sim(request: web.Request) -> Simulator:
    return request.app[SIM_KEY]


async def get_faults(request: web.Request) -> web.Response:
    """``GET /_sim/faults``."""
    return json_response(_sim(request).faults.as_dict())


async def post_faults(request: web.Request) -> web.Response:
    """``POST /_sim/faults``: set switches; ``refuse_for`` (s) refuses for a while then reopens."""
    sim = _sim(request)
    try:
        body = await read_json_object(request)
    except BodyError as err:
        return err.response
    refuse_for = body.pop("refuse_for", None)
    if refuse_for is not None and (
        isinstance(refuse_for, bool) or not isinstance(refuse_for, int | float)
    ):
        return error_response(400, "invalid_request", "refuse_for must be a number of seconds")
    # Applied after the answer: refusing (or going offline) drops this connection too.
    later = {name: body.pop(name) for name in ("refuse", "offline") if body.get(name) is not None}
    for name, value in later.items():
        if not isinstance(value, bool):
            return error_response(400, "invalid_request", f"{name} must be a boolean")
    body.pop("refuse", None)
    body.pop("offline", None)
    try:
        sim.faults.update(body)
    except ValueError as err:
        return error_response(400, "invalid_request", str(err))
    answer = sim.faults.as_dict() | later
    if refuse_for is not None:
        answer["refuse"] = True
    response = json_response(answer)
    await response.prepare(request)
    await response.write_eof()
    sim.faults.update(later)
    if refuse_for is not None:
        sim.refuse_for(float(refuse_for))
    return response


def _mqtt_problem(body: Any) -> str | None:
    """Return what is wrong with a ``POST /_sim/mqtt`` body (None: nothing)."""
    if not isinstance(body, dict) or not isinstance(body.get("url"), str) or not body["url"]:
        return "url must be a non-empty string"
    for key, limit in (("topic", 127), ("template", 1023)):
        value = body.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            return f"{key} must be null or a string of at most {limit} characters"
    if not isinstance(body.get("enable", True), bool):
        return "enable must be a boolean"
    return None


async def post_mqtt(request: web.Request) -> web.Response:
    """``POST /_sim/mqtt``: configure the MQTT client as the device's web page would."""
    sim = _sim(request)
    try:
        body: Any = await read_json(request)
    except BodyError as err:
        return err.response
    problem = _mqtt_problem(body)
    if problem is not None:
        return error_response(400, "invalid_request", problem)
    answer = sim.configure_mqtt(
        body["url"],
        topic=body.get("topic"),
        template=body.get("template"),
        enable=body.get("enable", True),
    )
    return json_response(answer)


async def post_license(request: web.Request) -> web.Response:
    """``POST /_sim/license`` with ``{"license": "free"|"plus"}``."""
    sim = _sim(request)
    try:
        body: Any = await read_json(request)
    except BodyError as err:
        return err.response
    tier = body.get("license") if isinstance(body, dict) else None
    if not isinstance(tier, str) or tier.lower() not in ("free", "plus", "pro"):
        return error_response(400, "invalid_request", "license must be free, plus or pro")
    sim.set_license(tier)
    return json_response({"license": sim.state.license})


async def post_meter(request: web.Request) -> web.Response:
    """``POST /_sim/meter``: exchange the meter (new identity, registers from near zero)."""
    try:
        body = await read_json_object(request)
    except BodyError as err:
        return err.response
    texts = {key: body.get(key) for key in ("meter_id", "serial")}
    start = body.get("start", 0.0)
    if any(value is not None and not isinstance(value, str) for value in texts.values()) or (
        isinstance(start, bool) or not isinstance(start, int | float) or not 0 <= start < 1e6
    ):
        return error_response(400, "invalid_request", "meter_id, serial: text; start: kWh")
    _sim(request).exchange_meter(texts["meter_id"], serial=texts["serial"], start=float(start))
    return json_response(_sim(request).state.meter_block())


async def post_load(request: web.Request) -> web.Response:
    """``POST /_sim/load`` with ``{"kw": <number> | null}``: hold an import power, or stop."""
    sim = _sim(request)
    meter = sim.meter
    try:
        body: Any = await read_json_object(request)
    except BodyError as err:
        return err.response
    kw = body.get("kw")
    if kw is not None and (isinstance(kw, bool) or not isinstance(kw, int | float) or kw < 0):
        return error_response(400, "invalid_request", "kw must be null or a number >= 0")
    if kw is None:
        meter.load = None
    else:
        meter.load = meter.load or LoadSteps(base_kw=meter.import_kw)
        meter.load.hold(sim.state.device_now(), float(kw))
    return json_response({"kw": kw})


async def post_telegram(request: web.Request) -> web.Response:
    """``POST /_sim/telegram``: produce the next meter telegram now."""
    report = await _sim(request).emit_telegram()
    return json_response({"report": report})


async def get_requests(request: web.Request) -> web.Response:
    """``GET /_sim/requests``: every API request served so far (method, path, status)."""
    return json_response([list(r) for r in _sim(request).requests])


def add_control_routes(app: web.Application) -> None:
    """Register the ``/_sim`` routes."""
    app.router.add_get("/_sim/faults", get_faults, allow_head=False)
    app.router.add_post("/_sim/faults", post_faults)
    app.router.add_post("/_sim/mqtt", post_mqtt)
    app.router.add_post("/_sim/license", post_license)
    app.router.add_post("/_sim/meter", post_meter)
    app.router.add_post("/_sim/load", post_load)
    app.router.add_post("/_sim/telegram", post_telegram)
    app.router.add_get("/_sim/requests", get_requests, allow_head=False)
