"""Drive a running Home Assistant over HTTP: wait for it, log in, add the MQTT entry."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from .haconfig import DEV_NAME, DEV_PASSWORD, DEV_USER


class HassApiError(RuntimeError):
    """Home Assistant answered something the development stack did not expect."""


async def wait_until_up(
    session: aiohttp.ClientSession, base_url: str, *, limit: float, alive: Any = None
) -> None:
    """Poll `GET /auth/providers` (needs no token) until Home Assistant's HTTP server answers.

    Polling an authenticated URL without a token would raise a "Login attempt failed"
    notification. `alive`, when given, is called between polls and raises when the process died.
    """
    deadline = time.monotonic() + limit
    while True:
        try:
            async with session.get(f"{base_url}/auth/providers") as resp:
                if resp.status < 500:  # 400 while the owner account is missing
                    return
        except aiohttp.ClientError:
            pass
        if alive is not None:
            alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"Home Assistant did not answer on {base_url} in {limit:.0f} s")
        await asyncio.sleep(0.2)


async def wait_until_running(
    session: aiohttp.ClientSession, base_url: str, token: str, *, limit: float
) -> None:
    """Poll `GET /api/config` until Home Assistant reports the state RUNNING."""
    deadline = time.monotonic() + limit
    while True:
        async with session.get(
            f"{base_url}/api/config", headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            if resp.status == 200 and (await resp.json()).get("state") == "RUNNING":
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"Home Assistant at {base_url} was not RUNNING after {limit:.0f} s")
        await asyncio.sleep(0.2)


async def _json(resp: aiohttp.ClientResponse, what: str) -> Any:
    if resp.status >= 400:
        raise HassApiError(f"{what}: HTTP {resp.status}: {await resp.text()}")
    return await resp.json()


async def _token_from_code(session: aiohttp.ClientSession, base_url: str, code: str) -> str:
    async with session.post(
        f"{base_url}/auth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": f"{base_url}/"},
    ) as resp:
        return str((await _json(resp, "token"))["access_token"])


async def _onboarding_needs_user(session: aiohttp.ClientSession, base_url: str) -> bool:
    async with session.get(f"{base_url}/api/onboarding") as resp:
        if resp.status == 404:  # onboarding finished
            return False
        steps = await _json(resp, "onboarding")
    return any(s["step"] == "user" and not s["done"] for s in steps)


async def ensure_token(
    session: aiohttp.ClientSession,
    base_url: str,
    *,
    username: str = DEV_USER,
    password: str = DEV_PASSWORD,
) -> str:
    """Return an access token, creating the owner account first when onboarding wants one."""
    client_id = f"{base_url}/"
    if await _onboarding_needs_user(session, base_url):
        async with session.post(
            f"{base_url}/api/onboarding/users",
            json={
                "client_id": client_id,
                "name": DEV_NAME,
                "username": username,
                "password": password,
                "language": "en",
            },
        ) as resp:
            code = (await _json(resp, "onboarding user"))["auth_code"]
        return await _token_from_code(session, base_url, code)
    async with session.post(
        f"{base_url}/auth/login_flow",
        json={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id,
        },
    ) as resp:
        flow_id = (await _json(resp, "login flow"))["flow_id"]
    async with session.post(
        f"{base_url}/auth/login_flow/{flow_id}",
        json={"client_id": client_id, "username": username, "password": password},
    ) as resp:
        result = await _json(resp, "login")
    if result.get("type") != "create_entry":
        raise HassApiError(f"login as {username!r} refused: {result.get('errors')}")
    return await _token_from_code(session, base_url, result["result"])


async def config_entries(
    session: aiohttp.ClientSession, base_url: str, token: str, domain: str
) -> list[dict[str, Any]]:
    """List the config entries of `domain`."""
    async with session.get(
        f"{base_url}/api/config/config_entries/entry",
        params={"domain": domain},
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        entries: list[dict[str, Any]] = await _json(resp, "config entries")
    return entries


async def ensure_mqtt_entry(
    session: aiohttp.ClientSession, base_url: str, token: str, *, broker: str, port: int
) -> bool:
    """Point Home Assistant's MQTT integration at `broker:port`; False when an entry exists.

    Home Assistant takes no broker settings from YAML, so this walks the MQTT config flow.
    An existing entry is left alone (a developer may have changed it).
    """
    if await config_entries(session, base_url, token, "mqtt"):
        return False
    headers = {"Authorization": f"Bearer {token}"}
    async with session.post(
        f"{base_url}/api/config/config_entries/flow",
        json={"handler": "mqtt", "show_advanced_options": False},
        headers=headers,
    ) as resp:
        step = await _json(resp, "mqtt flow")
    for _ in range(3):  # menu/form steps until the broker form
        if step.get("type") == "create_entry":
            return True
        if step.get("type") == "menu":
            body: dict[str, Any] = {"next_step_id": "broker"}
        elif step.get("type") == "form":
            body = {"broker": broker, "port": port}
            # Later lines add required sections (e.g. other settings): their defaults.
            for field in step.get("data_schema") or []:
                if field.get("required") and field.get("name") not in body:
                    default = (
                        {
                            sub["name"]: _default(sub)
                            for sub in field.get("schema") or []
                            if sub.get("required")
                        }
                        if field.get("type") == "expandable"
                        else field.get("default")
                    )
                    if default is not None:
                        body[field["name"]] = default
        else:
            raise HassApiError(f"MQTT flow ended with {step}")
        async with session.post(
            f"{base_url}/api/config/config_entries/flow/{step['flow_id']}",
            json=body,
            headers=headers,
        ) as resp:
            step = await _json(resp, "mqtt flow step")
    if step.get("type") != "create_entry":
        raise HassApiError(f"MQTT flow did not create an entry: {step}")
    return True


def _default(field: dict[str, Any]) -> Any:
    """Return a form field's default: its own, else off for a switch or a choice."""
    if "default" in field:
        return field["default"]
    selector = field.get("selector") or {}
    if "boolean" in selector:
        return False
    options = (selector.get("select") or {}).get("options") or []
    first = options[0] if options else None
    return first.get("value") if isinstance(first, dict) else first
