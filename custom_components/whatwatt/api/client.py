"""REST client for the whatwatt Go (aiohttp; the session is injected, never owned)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import re
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import aiohttp
from yarl import URL

from .auth import AuthState, UnsupportedChallengeError
from .clock import DeviceZone
from .errors import (
    WhatwattAuthError,
    WhatwattBusyError,
    WhatwattConnectionError,
    WhatwattInvalidResponseError,
    WhatwattLicenseError,
    WhatwattRequestError,
    WhatwattTimeoutError,
    WhatwattUnavailableError,
)
from .parse_common import load_json
from .parse_device import (
    parse_action_status,
    parse_mqtt_settings,
    parse_settings,
    parse_system,
)
from .parse_report import parse_report
from .parse_sdcard import SdFile, parse_sdcard_listing

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Mapping, Sequence
    from datetime import tzinfo

    from .models import ActionStatus, MqttSettings, Report, Settings, SystemInfo

_LOGGER = logging.getLogger(__name__)

CONNECT_TIMEOUT: Final = 5.0
# The largest REST reply read (the SD card's listing of a full card is the largest expected).
MAX_BODY_BYTES: Final = 1024 * 1024
# A request, its repetition with the 401's fresh challenge, one more after a ``stale`` one.
_AUTH_ATTEMPTS: Final = 3
DEFAULT_PORT: Final = 80

# Routes that answer 404 on a FREE licence (README section 5).
_GATED_PREFIXES: Final = ("/api/v1/report", "/api/v1/variables", "/api/v1/actions")
_HOST_LABEL: Final = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


def _check_port(text: str) -> int | None:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"invalid port: {text!r}")
    port = int(text)
    return None if port == DEFAULT_PORT else port


def _with_port(host: str, port: int | None) -> str:
    return host if port is None else f"{host}:{port}"


def _ipv6(text: str) -> str:
    try:
        return str(ipaddress.IPv6Address(text))
    except ValueError as err:
        raise ValueError(f"invalid IPv6 address: {text!r}") from err


def _hostname(text: str) -> str:
    name = text.rstrip(".").lower() if text != "." else ""
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValueError(f"invalid host name: {text!r}")
    if all(label.isdigit() for label in labels):
        try:
            return str(ipaddress.IPv4Address(name))
        except ValueError as err:
            raise ValueError(f"invalid IPv4 address: {text!r}") from err
    return name


def normalize_host(text: str) -> str:
    """Return the canonical ``host[:port]`` form of a user-typed device address.

    Accepts ``1.2.3.4``, ``name``, ``name:8080``, ``[fe80::1]:81`` and bare ``fe80::1``.
    Host names are lower-cased, IPv6 addresses compressed and bracketed, port 80 is dropped.
    Raises ValueError for schemes, paths, queries, ``user@`` parts, IPv6 zone ids, spaces and
    bad ports.
    """
    value = text.strip()
    if not value:
        raise ValueError("empty address")
    if "://" in value or any(char in value for char in "/?#@% \t\\"):
        raise ValueError(f"not a bare host[:port]: {text!r}")
    if value.startswith("["):
        close = value.find("]")
        if close < 0:
            raise ValueError(f"unclosed IPv6 bracket: {text!r}")
        address = _ipv6(value[1:close])
        rest = value[close + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"junk after IPv6 address: {text!r}")
        port = _check_port(rest[1:]) if rest else None
        return _with_port(f"[{address}]", port)
    if value.count(":") > 1:
        return f"[{_ipv6(value)}]"
    host, sep, port_text = value.partition(":")
    port = _check_port(port_text) if sep else None
    return _with_port(_hostname(host), port)


def _error_body(body: bytes) -> tuple[str | None, str | None]:
    """Return the ``error`` and ``message`` of the device's error object, if any."""
    try:
        data = load_json(body)
    except WhatwattInvalidResponseError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    error, message = data.get("error"), data.get("message")
    return (
        error if isinstance(error, str) else None,
        message if isinstance(message, str) else None,
    )


def _is_license_body(error: str | None, message: str | None) -> bool:
    text = f"{error or ''} {message or ''}".lower()
    return "licen" in text


class _Reply:
    """Status, headers and body of one finished HTTP exchange."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def raise_for_status(status: int, path: str, body: bytes) -> None:
    """Map a non-2xx status (other than 401) to the typed error of the agreed contract."""
    if 200 <= status < 300:
        return
    error, message = _error_body(body)
    if status == 429:
        raise WhatwattBusyError(message or "device busy (429)")
    if status == 503:
        raise WhatwattUnavailableError(message or "device unavailable (503)")
    gated = status == 404 and path.startswith(_GATED_PREFIXES)
    if gated and (error is None or _is_license_body(error, message)):
        raise WhatwattLicenseError(message or "licence required (404)")
    raise WhatwattRequestError(status, error, message)


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    """Read a reply's body, refusing one larger than ``MAX_BODY_BYTES`` before reading it all."""
    if (response.content_length or 0) > MAX_BODY_BYTES:
        raise WhatwattInvalidResponseError(f"reply larger than {MAX_BODY_BYTES} bytes")
    body = await response.content.read(MAX_BODY_BYTES + 1)
    while len(body) <= MAX_BODY_BYTES and (more := await response.content.read(MAX_BODY_BYTES)):
        body += more
    if len(body) > MAX_BODY_BYTES:
        raise WhatwattInvalidResponseError(f"reply larger than {MAX_BODY_BYTES} bytes")
    return body


def _status_ids_from_location(location: str) -> list[int] | None:
    query = URL(location).query.get("id")
    if query is None:
        return None
    try:
        return [int(part) for part in query.split(",") if part.strip()]
    except ValueError as err:
        raise WhatwattInvalidResponseError(f"bad status location: {location!r}") from err


class WhatwattClient:
    """Client for one whatwatt Go on the local network.

    The aiohttp session is injected and never closed here. Digest state is kept between calls,
    so once the first challenge is answered each call costs exactly one HTTP request. Calls are
    serialised: the device is small and Digest nonce counters must arrive in order.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        password: str | None = None,
        *,
        timeout: float = 10.0,
        tz: tzinfo | None = None,
    ) -> None:
        """Prepare a client for ``host`` (any form normalize_host accepts).

        ``tz`` is the zone of the device's local wall-clock times (used only when a reply
        carries no UTC time); None means UTC.
        """
        self._session = session
        self._host = normalize_host(host)
        self.base_url: str = f"http://{self._host}"
        self._auth = AuthState(password or None)
        self._timeout = timeout
        self._tz = tz
        self._lock = asyncio.Lock()
        self.requests_sent: int = 0

    @property
    def host(self) -> str:
        """Canonical ``host[:port]`` of the device."""
        return self._host

    @property
    def session(self) -> aiohttp.ClientSession:
        """The injected aiohttp session."""
        return self._session

    @property
    def tz(self) -> tzinfo | None:
        """The zone of the device's local times (a ``DeviceZone`` learns it), None for UTC."""
        return self._tz

    @staticmethod
    def _client_timeout(total: float | None, read: float | None) -> aiohttp.ClientTimeout:
        connect = CONNECT_TIMEOUT if total is None else min(CONNECT_TIMEOUT, total)
        return aiohttp.ClientTimeout(total=total, connect=connect, sock_read=read)

    async def open_stream(self, path: str, *, read_timeout: float) -> aiohttp.ClientResponse:
        """GET ``path`` authenticated: the (unread) non-401 response (live stream, SD files).

        The call lock is held only until the headers arrive; no overall limit, ``read_timeout``
        bounds every wait for data. See ``_open`` for the authentication rules. The caller must
        close the response.
        """
        async with self._lock:
            return await self._open("GET", path, total_timeout=None, read_timeout=read_timeout)

    async def _open(
        self,
        method: str,
        path_qs: str,
        *,
        body: bytes | None = None,
        total_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> aiohttp.ClientResponse:
        """Send a request with authentication and return the (unread) non-401 response.

        ``path_qs`` is the path plus query exactly as sent (it is signed by Digest). A refusal
        counts only once it is confirmed: a 401 is answered by repeating the request signed with
        the fresh challenge that 401 carried, and only a 401 to that repetition, without
        ``stale``, raises WhatwattAuthError ("rejected the password"); a ``stale`` one (the nonce
        expired or the device restarted in between) is answered once more. A 401 without a
        password raises at once. The challenge of the last 401 is kept, so the next call is
        signed with a fresh nonce. The caller must release the response. Connection failures
        raise WhatwattConnectionError / WhatwattTimeoutError.
        """
        url = URL(self.base_url + path_qs, encoded=True)
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        timeout = self._client_timeout(total_timeout, read_timeout)
        for attempt in range(_AUTH_ATTEMPTS):
            authorization = self._auth.authorization(method, path_qs, body or b"")
            if authorization is None:
                headers.pop("Authorization", None)
            else:
                headers["Authorization"] = authorization
            response = await self._send(method, url, headers, body, timeout)
            _LOGGER.debug("%s %s -> %s", method, path_qs, response.status)
            if response.status != 401:
                return response
            if not await self._challenged(response) and attempt > 0:
                break  # refused although signed with the fresh challenge: the password is wrong
        raise WhatwattAuthError("the device rejected the password")

    async def _challenged(self, response: aiohttp.ClientResponse) -> bool:
        """Learn the challenge of a 401; return True when it says the nonce was only stale."""
        challenges = response.headers.getall("WWW-Authenticate", [])
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            await response.read()  # drain the small body so the connection is reused
        response.release()
        if not self._auth.has_password:
            raise WhatwattAuthError("the device requires a password")
        try:
            return self._auth.learn(challenges).stale
        except UnsupportedChallengeError as err:
            raise WhatwattAuthError(str(err)) from err

    async def _send(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        body: bytes | None,
        client_timeout: aiohttp.ClientTimeout,
    ) -> aiohttp.ClientResponse:
        self.requests_sent += 1
        try:
            return await self._session.request(
                method,
                url,
                headers=headers,
                data=body,
                timeout=client_timeout,
                allow_redirects=False,
            )
        except TimeoutError as err:
            raise WhatwattTimeoutError(f"{self._host} did not answer in time") from err
        except aiohttp.ClientConnectorError as err:
            self.requests_sent -= 1  # never reached the device
            errno = err.errno or 0  # the system's words ("Connection refused"), not aiohttp's
            reason = os.strerror(errno) if errno > 0 else err.strerror or type(err).__name__
            raise WhatwattConnectionError(f"cannot connect to {self._host}: {reason}") from err
        except aiohttp.ClientError as err:
            raise WhatwattConnectionError(f"error talking to {self._host}: {err}") from err

    async def _request(
        self, method: str, path_qs: str, *, json_body: Mapping[str, Any] | None = None
    ) -> _Reply:
        body = None if json_body is None else json.dumps(json_body).encode()
        async with self._lock:
            response = await self._open(method, path_qs, body=body, total_timeout=self._timeout)
            try:
                data = await _read_capped(response)
            except TimeoutError as err:
                raise WhatwattTimeoutError(f"{self._host} did not answer in time") from err
            except aiohttp.ClientError as err:
                raise WhatwattConnectionError(f"error reading from {self._host}: {err}") from err
            finally:
                response.release()
        raise_for_status(response.status, path_qs, data)
        return _Reply(response.status, response.headers, data)

    async def _get_json(self, path_qs: str) -> Any:
        return load_json((await self._request("GET", path_qs)).body)

    async def _write_json(self, path: str, changes: Mapping[str, Any]) -> Any:
        return load_json((await self._request("PUT", path, json_body=changes)).body)

    async def get_system(self) -> SystemInfo:
        """``GET /api/v1/system``: identity, firmware, licence and health.

        With a ``DeviceZone`` as ``tz`` the device's clock teaches it the device's offset.
        """
        data = await self._get_json("/api/v1/system")
        system = parse_system(data, tz=self._tz)
        zone = self._tz
        if isinstance(zone, DeviceZone) and system.local_time and zone.observe(system.local_time):
            system = parse_system(data, tz=zone)  # the local times in the new offset
        return system

    async def get_report(self) -> Report:
        """``GET /api/v1/report``: the latest meter reading (Plus licence).

        A report without UTC time (old firmware) carries the device's clock as it answered
        (``local_time``): with a ``DeviceZone`` as ``tz`` it teaches the zone the device's
        offset, so the reading's local time is read in an offset that moved (DST) at once.
        """
        data = await self._get_json("/api/v1/report")
        report = parse_report(data, tz=self._tz)
        zone = self._tz
        if isinstance(zone, DeviceZone) and report.local_time and zone.observe(report.local_time):
            report = parse_report(data, tz=zone)  # the local time in the new offset
        return report

    async def get_variables(self) -> dict[str, str]:
        """``GET /api/v1/variables``: every template variable and its value as text."""
        data = await self._get_json("/api/v1/variables")
        items: list[Any] = [data] if isinstance(data, dict) else data
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise WhatwattInvalidResponseError("variables: expected a list of objects")
        result: dict[str, str] = {}
        for item in items:
            for name, value in item.items():
                result[str(name)] = "null" if value is None else str(value)
        return result

    async def get_settings(self) -> Settings:
        """``GET /api/v1/settings`` (secrets hidden)."""
        return parse_settings(await self._get_json("/api/v1/settings"))

    async def update_settings(self, changes: Mapping[str, Any]) -> Settings:
        """``PUT /api/v1/settings`` with a nested partial body; returns the resulting settings."""
        return parse_settings(await self._write_json("/api/v1/settings", changes))

    async def get_mqtt_settings(self) -> MqttSettings:
        """``GET /api/v1/mqtt/settings`` (secrets hidden)."""
        return parse_mqtt_settings(await self._get_json("/api/v1/mqtt/settings"))

    async def update_mqtt_settings(self, changes: Mapping[str, Any]) -> MqttSettings:
        """``PUT /api/v1/mqtt/settings`` with a partial body; returns the resulting settings."""
        return parse_mqtt_settings(await self._write_json("/api/v1/mqtt/settings", changes))

    async def get_meter_settings(self) -> dict[str, Any]:
        """``GET /api/v1/meter/settings`` as the device's JSON object."""
        return self._object(await self._get_json("/api/v1/meter/settings"), "meter settings")

    async def update_meter_settings(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /api/v1/meter/settings`` with a partial body; returns the resulting object."""
        data = await self._write_json("/api/v1/meter/settings", changes)
        return self._object(data, "meter settings")

    async def reboot(self) -> None:
        """``POST /api/v1/reboot``: the device restarts (offline for a while)."""
        await self._request("POST", "/api/v1/reboot")

    async def get_actions(self) -> dict[str, Any]:
        """``GET /api/v1/actions``: the action definitions; ``{}`` when none are defined."""
        try:
            reply = await self._request("GET", "/api/v1/actions")
        except WhatwattRequestError as err:
            if err.status == 404:
                return {}
            raise
        if not reply.body.strip():
            return {}
        return self._object(load_json(reply.body), "actions")

    async def call_action(self, action_id: str) -> list[int]:
        """``POST /api/v1/actions/call?id=...``: queue an action; returns its status ids."""
        reply = await self._request("POST", f"/api/v1/actions/call?id={quote(action_id, safe='')}")
        location = reply.headers.get("Location")
        if location:
            ids = _status_ids_from_location(location)
            if ids is not None:
                return ids
        if reply.body.strip():
            data = load_json(reply.body)
            if isinstance(data, dict):
                raw = data.get("status_ids")
                if isinstance(raw, list) and all(
                    isinstance(item, int) and not isinstance(item, bool) for item in raw
                ):
                    return list(raw)
        raise WhatwattInvalidResponseError("action call: no status ids in the reply")

    async def get_action_status(self, ids: Sequence[int]) -> list[ActionStatus]:
        """``GET /api/v1/actions/status?id=1,2``: one record per request of the actions."""
        if not ids:
            return []
        id_list = ",".join(str(int(item)) for item in ids)
        return parse_action_status(await self._get_json(f"/api/v1/actions/status?id={id_list}"))

    async def get_sdcard_listing(self, folder: str = "") -> tuple[SdFile, ...]:
        """``GET /sdcard/`` (or ``/sdcard/<folder>/``); 503 (WhatwattUnavailableError): no card."""
        parts = "".join(f"{quote(part, safe='')}/" for part in folder.split("/") if part)
        return parse_sdcard_listing(await self._get_json(f"/sdcard/{parts}"))

    async def stream_sdcard_file(
        self, name: str, *, chunk_size: int = 64 * 1024, read_timeout: float = 30.0
    ) -> AsyncGenerator[bytes]:
        """``GET /sdcard/<name>``: yield the file's bytes as they arrive (never held whole).

        The call lock is held only until the headers arrive (as for the live stream); every wait
        for data is bounded by ``read_timeout``. Close the iterator to stop early.
        """
        path = "/sdcard/" + "/".join(quote(part, safe="") for part in name.split("/") if part)
        response = await self.open_stream(path, read_timeout=read_timeout)
        try:
            if response.status >= 300:
                raise_for_status(response.status, path, await response.content.read(4096))
            async for chunk in response.content.iter_chunked(chunk_size):
                yield chunk
        except TimeoutError as err:
            raise WhatwattTimeoutError(f"{self._host} stopped sending {name}") from err
        except aiohttp.ClientError as err:
            raise WhatwattConnectionError(f"error reading {name} from {self._host}: {err}") from err
        finally:
            response.close()

    @staticmethod
    def _object(data: Any, what: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise WhatwattInvalidResponseError(f"{what}: expected a JSON object")
        return data


__all__ = ["WhatwattClient", "normalize_host", "raise_for_status"]
