"""Actions engine: definitions, execution queue, status ring (README section 15)."""

from __future__ import annotations

import asyncio
from collections import deque
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_IN_FLIGHT = 20
RING_SIZE = 40
CODE_RUNNING = -1
CODE_CONNECT_FAILED = -17
_VAR = re.compile(r"\$\{([^}]+)\}")
_ID = re.compile(r"^[^\s]{1,15}$")


class ActionError(Exception):
    """A call or definition was refused: ``status`` is the HTTP code to answer."""

    def __init__(self, status: int, error: str, message: str) -> None:
        """Keep the answer to send."""
        self.status = status
        self.error = error
        self.message = message
        super().__init__(message)


def _substitute(text: str, const: Mapping[str, Any]) -> str:
    def repl(match: re.Match[str]) -> str:
        value = const.get(match.group(1))
        if value is None:
            return match.group(0)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return _VAR.sub(repl, text)


def _bad(message: str) -> ActionError:
    return ActionError(400, "invalid_request", message)


def _num(req: Mapping[str, Any], key: str, lo: float, hi: float) -> None:
    if key in req:
        value = req[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise _bad(f"{key} must be a number in {lo:g}..{hi:g}")


def validate_definition(data: Any) -> dict[str, Any]:
    """Return a checked actions definition or raise ActionError(400)."""
    if not isinstance(data, dict):
        raise _bad("body must be an object")
    const = data.get("const", {})
    if not isinstance(const, dict) or any(isinstance(v, dict | list) for v in const.values()):
        raise _bad("const must be a flat object")
    actions = data.get("actions")
    if not isinstance(actions, list):
        raise _bad("actions must be an array")
    seen: set[str] = set()
    for action in actions:
        if not isinstance(action, dict):
            raise _bad("action must be an object")
        action_id = action.get("id")
        if not isinstance(action_id, str) or not _ID.match(action_id) or action_id in seen:
            raise _bad("action id must be a unique string of 1..15 characters")
        seen.add(action_id)
        if not isinstance(action.get("enable", True), bool):
            raise _bad("enable must be a boolean")
        requests = action.get("requests", [])
        if not isinstance(requests, list):
            raise _bad("requests must be an array")
        for req in requests:
            _validate_request(req)
    return {"const": const, "actions": actions}


def _validate_request(req: Any) -> None:  # noqa: C901 - one check per documented rule
    if not isinstance(req, dict) or len(req) != 1 or next(iter(req)) not in ("http", "modbus"):
        raise _bad("a request is one object with key http or modbus")
    kind, body = next(iter(req.items()))
    if not isinstance(body, dict):
        raise _bad(f"{kind} must be an object")
    if not isinstance(body.get("enable", True), bool):
        raise _bad("enable must be a boolean")
    _num(body, "timeout", 0.1, 10)
    if kind == "http":
        url = body.get("url")
        if not isinstance(url, str) or not 8 <= len(url) <= 255:
            raise _bad("http.url must be 8..255 characters")
        if body.get("method", "GET") not in ("GET", "POST", "PUT", "DELETE"):
            raise _bad("http.method must be GET, POST, PUT or DELETE")
        payload = body.get("payload", "")
        if not isinstance(payload, str) or len(payload) > 1023:
            raise _bad("http.payload must be a string of at most 1023 characters")
        headers = body.get("headers", {})
        if not isinstance(headers, dict) or len(headers) > 4:
            raise _bad("http.headers must be an object of at most 4 entries")
    else:
        host = body.get("host")
        if not isinstance(host, str) or not 4 <= len(host) <= 63:
            raise _bad("modbus.host must be 4..63 characters")
        _num(body, "port", 1, 65535)
        _num(body, "unit_id", 0, 255)
        _num(body, "address", 0, 65535)
        if body.get("func") not in (5, 6, 15, 16):
            raise _bad("modbus.func must be 5, 6, 15 or 16")
        if body.get("type", "hex") not in ("hex", "short", "int", "long", "float", "double"):
            raise _bad("modbus.type is invalid")
        value = body.get("value")
        if not isinstance(value, str) or not 1 <= len(value) <= 492:
            raise _bad("modbus.value must be 1..492 characters")


class ActionEngine:
    """Runs actions: HTTP requests to 127.0.0.1 really run; anything else fails with -17."""

    def __init__(self, fake_delay: float = 0.05) -> None:
        """Start with an empty status ring."""
        self.fake_delay = fake_delay
        self.records: deque[dict[str, Any]] = deque(maxlen=RING_SIZE)
        self._next_id = 1
        self._running: dict[str, int] = {}
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self.idle = asyncio.Event()
        self.idle.set()

    def call(self, definition: Mapping[str, Any] | None, action_id: str) -> list[int]:
        """Queue every enabled request of ``action_id``; return the new status ids."""
        actions = (definition or {}).get("actions", [])
        action = next((a for a in actions if a.get("id") == action_id), None)
        if action is None:
            raise ActionError(404, "not_found", f"Action {action_id!r} not found")
        if not action.get("enable", True):
            raise ActionError(400, "action_disabled", "Action is disabled")
        requests = [
            r for r in action.get("requests", []) if next(iter(r.values())).get("enable", True)
        ]
        if not requests:
            raise ActionError(400, "action_disabled", "All requests of the action are disabled")
        if self._running.get(action_id):
            raise ActionError(409, "action_running", "Action is already running")
        if self._in_flight + len(requests) > MAX_IN_FLIGHT:
            raise ActionError(429, "too_many_requests", "Too many requests in flight")
        const = (definition or {}).get("const", {})
        ids: list[int] = []
        records: list[dict[str, Any]] = []
        for _ in requests:
            ids.append(self._next_id)
            record: dict[str, Any] = {
                "action_id": action_id,
                "id": self._next_id,
                "code": CODE_RUNNING,
                "exe_time": 0,
            }
            self._next_id += 1
            self.records.append(record)
            records.append(record)
        self._running[action_id] = len(requests)
        self._in_flight += len(requests)
        self.idle.clear()
        task = asyncio.get_running_loop().create_task(
            self._run(action_id, requests, records, const), name=f"sim-action-{action_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return ids

    def status(self, ids: list[int]) -> list[dict[str, Any]]:
        """Return the retained records for ``ids`` (in ring order)."""
        wanted = set(ids)
        return [dict(r) for r in self.records if r["id"] in wanted]

    async def _run(
        self,
        action_id: str,
        requests: list[dict[str, Any]],
        records: list[dict[str, Any]],
        const: Mapping[str, Any],
    ) -> None:
        try:
            for req, record in zip(requests, records, strict=True):
                start = time.monotonic()
                try:
                    record["code"] = await self._execute(req, const)
                except Exception:  # noqa: BLE001 - any failure is a status code
                    record["code"] = CODE_RUNNING
                record["exe_time"] = round(max(time.monotonic() - start, 0.001), 3)
                self._in_flight -= 1
                self._running[action_id] -= 1
        finally:
            self._in_flight -= sum(1 for r in records if r["exe_time"] == 0)
            self._running.pop(action_id, None)
            if self._in_flight <= 0:
                self._in_flight = 0
                self.idle.set()

    async def _execute(self, req: Mapping[str, Any], const: Mapping[str, Any]) -> int:
        kind, body = next(iter(req.items()))
        timeout = float(body.get("timeout", 5))
        if kind == "http":
            url = _substitute(body["url"], const)
            if urlsplit(url).scheme == "http" and urlsplit(url).hostname == "127.0.0.1":
                return await self._http(body, url, timeout, const)
        await asyncio.sleep(min(self.fake_delay, timeout))
        return CODE_CONNECT_FAILED

    async def _http(
        self, body: Mapping[str, Any], url: str, limit: float, const: Mapping[str, Any]
    ) -> int:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        method = body.get("method", "GET")
        payload = _substitute(body.get("payload", ""), const) if method in ("POST", "PUT") else None
        try:
            async with self._session.request(
                method,
                url,
                data=payload,
                headers=body.get("headers") or None,
                timeout=aiohttp.ClientTimeout(total=limit),
            ) as resp:
                await resp.read()
                return resp.status
        except TimeoutError:
            return CODE_RUNNING
        except aiohttp.ClientError:
            return CODE_CONNECT_FAILED

    def reset(self) -> None:
        """Forget the status ring and ids (a reboot); running tasks are cancelled by ``close``."""
        self.records.clear()
        self._next_id = 1

    async def close(self) -> None:
        """Cancel running actions and close the HTTP session."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._running.clear()
        self._in_flight = 0
        self.idle.set()
        if self._session is not None:
            await self._session.close()
            self._session = None
