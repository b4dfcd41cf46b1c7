"""The simulated SD card: the logging service and ``/sdcard/...`` (docs/device-api.md §17).

With a card mounted (``SimulatorConfig.sd_card``, ``sim.sdcard.mounted`` or ``POST /_sim/sdcard``)
and the logging service on (``services.sd.enable``), every decoded report is logged, at most one
row per ``services.sd.frequency`` seconds of the device's clock, to ``YYYYMMDD.CSV`` named after
the UTC date of the row: the documented header (``COLUMNS``), then one row per report, text
quoted, numbers bare, an empty field for what the meter does not supply (``RP`` in milliseconds);
while the ``hostile`` fault's ``long_sd_rows`` is on, each row is padded to ``row_length`` bytes.
Files live in memory and survive reboots, as a card does; the meter's history is therefore on the
card for any time the simulated meter ran, whether or not anyone was reading the device.

HTTP (auth, faults and the origin check apply as everywhere):

- ``GET /sdcard/`` (``/sdcard`` too) or ``/sdcard/<dir>/``: ``{"path", "files": [{"name", "size",
  "type"}]}``; ``GET /sdcard/<file>``: the bytes, streamed in chunks of ``SdCard.chunk`` bytes
  (``text/csv`` for ``.CSV``);
- ``DELETE /sdcard/<file>`` or ``/sdcard/<dir>/`` (recursive) → 204; the root → 400;
- 404 for what is not there; 503 for every SD request while no card is mounted.

Control (never subject to faults or auth): ``GET /_sim/sdcard`` → ``{"mounted", "files": {name:
size}}``; ``POST /_sim/sdcard`` with ``{"mounted": bool}`` and/or ``{"clear": true}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .meter import dig
from .responses import BodyError, error_response, json_response, read_json_object
from .routes import SIM_KEY

if TYPE_CHECKING:
    from .state import DeviceState

_DOCUMENTED_HEADER: Final = (  # as the vendor documents it
    "RID,TIME,MID,MSTAT,TARIFF,PF,EAP_T,EAP_T1,EAP_T2,EAN_T,EAN_T1,EAN_T2,ERP_T,ERP_T1,ERP_T2,"
    "ERN_T,ERN_T1,ERN_T2,ERII_T,ERII_T1,ERII_T2,ERIC_T,ERIC_T1,ERIC_T2,EREI_T,EREI_T1,EREI_T2,"
    "EREC_T,EREC_T1,EREC_T2,MDAP_T,MDAP_T1,MDAP_T2,MDAN_T,MDAN_T1,MDAN_T2,IPAP_T,IPAP_L1,IPAP_L2,"
    "IPAP_L3,IPAN_T,IPAN_L1,IPAN_L2,IPAN_L3,IPRP_T,IPRP_L1,IPRP_L2,IPRP_L3,IPRN_T,IPRN_L1,IPRN_L2,"
    "IPRN_L3,IPA_T,V_L1,V_L2,V_L3,I_L1,I_L2,I_L3,MIDENT,MMODEL,MIF,MPROT,RP"
)
COLUMNS: Final[tuple[str, ...]] = tuple(_DOCUMENTED_HEADER.split(","))
HEADER: Final = ",".join(COLUMNS) + "\r\n"
CHUNK: Final = 16 * 1024
CARD_INFO: Final[dict[str, Any]] = {
    "installed": True,
    "type": "SDHC/SDXC",
    "size": 15193,
    "speed": 20,
}

_TIERS: Final = {"T": "total", "T1": "t1", "T2": "t2", "L1": "l1", "L2": "l2", "L3": "l3"}
_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "EAP": ("energy", "active", "positive"),
    "EAN": ("energy", "active", "negative"),
    "ERP": ("energy", "reactive", "positive"),
    "ERN": ("energy", "reactive", "negative"),
    "MDAP": ("max_demand", "active", "positive"),
    "MDAN": ("max_demand", "active", "negative"),
    "IPAP": ("instantaneous_power", "active", "positive"),
    "IPAN": ("instantaneous_power", "active", "negative"),
    "IPRP": ("instantaneous_power", "reactive", "positive"),
    "IPRN": ("instantaneous_power", "reactive", "negative"),
    "IPA": ("instantaneous_power", "apparent"),
    "V": ("voltage",),
    "I": ("current",),
}
# Meter block fields written as text.
_METER_TEXT: Final = {
    "MID": "id",
    "MSTAT": "status",
    "MIDENT": "logical_name",
    "MMODEL": "model",
    "MIF": "interface",
    "MPROT": "protocol",
}


def _path(column: str) -> tuple[str, ...] | None:
    """Return the report path of a numeric column (None: not in the simulated reports)."""
    if column == "PF":
        return ("power_factor",)
    if column == "TARIFF":
        return ("tariff",)
    group, _, tier = column.rpartition("_")
    base = _GROUPS.get(group)
    if base is None or tier not in _TIERS:
        return None
    return (*base, _TIERS[tier])


_PATHS: Final = {column: _path(column) for column in COLUMNS}


def _text(value: Any) -> str:
    """Return a quoted text field (``""`` for nothing, quotes doubled)."""
    text = "" if value is None else str(value)
    return '"' + text.replace('"', '""') + '"'


def _number(value: Any) -> str:
    """Return a bare number, or an empty field when there is none."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return str(value)


def _moment(report: dict[str, Any]) -> datetime | None:
    """Return the UTC time of a report (``date_time_utc``), None when it has none."""
    stamp = dig(report, ("report", "date_time_utc"))
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None


def csv_row(report: dict[str, Any], moment: datetime, *, length: int = 0) -> str:
    """Return the CSV line (CRLF-terminated) the device writes for one report.

    ``length``: pad the meter model field so that the line is that long (a hostile row).
    """
    body = report.get("report", {})
    meter = dict(report.get("meter", {}))
    if length:
        meter["model"] = ""
        plain = len(csv_row({**report, "meter": meter}, moment))
        meter["model"] = "x" * max(length - plain, 0)
    fields: list[str] = []
    for column in COLUMNS:
        if column == "RID":
            fields.append(_number(body.get("id")))
        elif column == "TIME":
            fields.append(_text(moment.strftime("%Y-%m-%dT%H:%M:%SZ")))
        elif column in _METER_TEXT:
            fields.append(_text(meter.get(_METER_TEXT[column])))
        elif column == "RP":
            interval = body.get("interval")
            fields.append(_number(round(interval * 1000)) if _number(interval) else "")
        else:
            path = _PATHS[column]
            fields.append(_number(dig(body, path)) if path is not None else "")
    return ",".join(fields) + "\r\n"


class SdCard:
    """The card in the device's slot and the logging service that writes to it."""

    def __init__(self, state: DeviceState, *, mounted: bool = False) -> None:
        """Start with an empty card (mounted or not) and one system folder, as formatted."""
        self._state = state
        self.files: dict[str, bytearray] = {}
        self.folders: set[str] = {"SYSTEM~1"}
        self.rows_written = 0
        self.row_length = 0  # > 0: rows padded to this length (the ``hostile`` fault)
        self.chunk = CHUNK  # bytes per write when a file is served
        self._last_row: datetime | None = None
        self._mounted = False
        self.mounted = mounted

    @property
    def mounted(self) -> bool:
        """Return True while a card is mounted (else every SD request answers 503)."""
        return self._mounted

    @mounted.setter
    def mounted(self, value: bool) -> None:
        self._mounted = value
        self._state.sd_card = dict(CARD_INFO) if value else {"installed": False}

    @property
    def logging(self) -> bool:
        """Return True when reports are being logged (card mounted, service on)."""
        return self._mounted and bool(self._state.settings["services"]["sd"]["enable"])

    def clear(self) -> None:
        """Delete every file (the folders stay)."""
        self.files.clear()
        self._last_row = None

    def on_report(self, report: dict[str, Any]) -> None:
        """Log a new report (telegram listener) when logging is on and a row is due."""
        if not self.logging:
            return
        moment = _moment(report) or self._state.device_now().replace(microsecond=0)
        frequency = int(self._state.settings["services"]["sd"]["frequency"])
        last = self._last_row
        if last is not None and 0 <= (moment - last).total_seconds() < frequency:
            return
        self._last_row = moment
        name = f"{moment:%Y%m%d}.CSV"
        content = self.files.get(name)
        if content is None:
            content = self.files[name] = bytearray(HEADER.encode())
        content.extend(csv_row(report, moment, length=self.row_length).encode())
        self.rows_written += 1

    def listing(self, folder: str) -> list[dict[str, Any]]:
        """Return the entries of the root (``""``) or of a folder."""
        if folder:
            prefix = folder + "/"
            return [
                {"name": name[len(prefix) :], "size": len(data), "type": "file"}
                for name, data in sorted(self.files.items())
                if name.startswith(prefix)
            ]
        files = [
            {"name": name, "size": len(data), "type": "file"}
            for name, data in sorted(self.files.items())
            if "/" not in name
        ]
        dirs = [{"name": name, "size": 0, "type": "dir"} for name in sorted(self.folders)]
        return files + dirs

    def delete(self, path: str) -> int:
        """Delete a file or (trailing ``/``) a folder recursively; return the HTTP status."""
        name = path.strip("/").upper()
        if not name:
            return 400
        if path.endswith("/"):
            if name not in self.folders:
                return 404
            self.folders.discard(name)
            for key in [key for key in self.files if key.startswith(name + "/")]:
                del self.files[key]
            return 204
        if self.files.pop(name, None) is None:
            return 404
        return 204


def _card(request: web.Request) -> SdCard:
    return request.app[SIM_KEY].sdcard


def _unmounted() -> web.Response:
    return error_response(503, "sd_not_mounted", "SD card not mounted")


async def get_sdcard(request: web.Request) -> web.StreamResponse:
    """``GET /sdcard/...``: a listing (trailing ``/``) or a file, streamed."""
    card = _card(request)
    if not card.mounted:
        return _unmounted()
    tail = request.match_info.get("tail", "")
    if not tail or tail.endswith("/"):
        folder = tail.strip("/").upper()
        if folder and folder not in card.folders:
            return error_response(404, "not_found", "No such folder")
        path = f"/sdcard/{folder}/" if folder else "/sdcard/"
        return json_response({"path": path, "files": card.listing(folder)})
    content = card.files.get(tail.upper())
    if content is None:
        return error_response(404, "not_found", "No such file")
    data = bytes(content)
    chunk = card.chunk
    content_type = "text/csv" if tail.upper().endswith(".CSV") else "application/octet-stream"
    response = web.StreamResponse(
        headers={"Content-Type": content_type, "Cache-Control": "no-store"}
    )
    response.content_length = len(data)
    await response.prepare(request)
    for start in range(0, len(data), chunk):
        await response.write(data[start : start + chunk])
    await response.write_eof()
    return response


async def delete_sdcard(request: web.Request) -> web.Response:
    """``DELETE /sdcard/<file>`` or ``/sdcard/<dir>/``."""
    card = _card(request)
    if not card.mounted:
        return _unmounted()
    status = card.delete(request.match_info.get("tail", ""))
    if status == 400:
        return error_response(400, "invalid_request", "The root cannot be deleted")
    if status == 404:
        return error_response(404, "not_found", "No such file or folder")
    return web.Response(status=204, headers={"Cache-Control": "no-store"})


async def get_control(request: web.Request) -> web.Response:
    """``GET /_sim/sdcard``: mounted or not, and every file with its size."""
    card = _card(request)
    files = {name: len(data) for name, data in sorted(card.files.items())}
    return json_response({"mounted": card.mounted, "logging": card.logging, "files": files})


async def post_control(request: web.Request) -> web.Response:
    """``POST /_sim/sdcard``: ``{"mounted": bool}`` puts a card in or out; ``clear`` empties it."""
    card = _card(request)
    try:
        body = await read_json_object(request)
    except BodyError as err:
        return err.response
    mounted, clear = body.get("mounted"), body.get("clear", False)
    if (mounted is not None and not isinstance(mounted, bool)) or not isinstance(clear, bool):
        return error_response(400, "invalid_request", "mounted and clear must be booleans")
    if mounted is not None:
        card.mounted = mounted
    if clear:
        card.clear()
    return await get_control(request)


def add_sdcard_routes(app: web.Application) -> None:
    """Register ``/sdcard/...`` and ``/_sim/sdcard``."""
    app.router.add_get("/sdcard", get_sdcard, allow_head=False)
    app.router.add_get("/sdcard/{tail:.*}", get_sdcard, allow_head=False)
    app.router.add_delete("/sdcard/{tail:.*}", delete_sdcard)
    app.router.add_get("/_sim/sdcard", get_control, allow_head=False)
    app.router.add_post("/_sim/sdcard", post_control)


__all__ = ["COLUMNS", "HEADER", "SdCard", "add_sdcard_routes", "csv_row"]
