"""Every simulator answer for the routes in the vendor's openapi.yaml matches its schemas."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from .conftest import digest_header

SPEC_PATH = Path(__file__).parents[2] / "docs/device-api.openapi.yaml"


def _convert(schema: Any) -> Any:
    """Turn an OpenAPI 3.0 schema into JSON Schema (nullable, writeOnly, examples...)."""
    if isinstance(schema, list):
        return [_convert(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: _convert(v)
        for k, v in schema.items()
        if k not in ("nullable", "writeOnly", "readOnly", "example", "xml", "externalDocs")
    }
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        pytest.skip(f"vendor OpenAPI file not found at {SPEC_PATH}")
    return yaml.safe_load(SPEC_PATH.read_text())


class Checker:
    def __init__(self, spec, session, sim):
        self.spec = spec
        self.session = session
        self.sim = sim
        self.checked: list[tuple[str, str, int]] = []

    async def __call__(self, method, path, body=None, *, headers=None, expect=None, raw=None):
        route = path.split("?")[0]
        operation = self.spec["paths"][route][method.lower()]
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        async with self.session.request(
            method, self.sim.url + path, data=data, headers=headers
        ) as resp:
            status = resp.status
            text = await resp.text()
            content_type = resp.headers.get("Content-Type", "")
            header_values = dict(resp.headers)
        if expect is not None:
            assert status == expect, (method, path, status, text)
        responses = operation["responses"]
        assert str(status) in responses, (method, path, status)
        documented = responses[str(status)]
        content = documented.get("content", {})
        if "application/json" in content:
            assert content_type == "application/json; charset=utf-8", (path, content_type)
            schema = _convert(content["application/json"]["schema"])
            jsonschema.validate(json.loads(text), schema)
        for header in documented.get("headers", {}):
            if header == "Location":
                assert header_values[header].startswith("/api/v1/actions/status?id=")
        self.checked.append((method, route, status))
        return status, text, header_values


async def test_responses_match_openapi(simulator_factory, session, spec):
    sim = await simulator_factory(
        telegram_interval=0, profile="dlms-three", password="pw", reboot_downtime=0.1
    )
    sim.state.settings["system"]["protection"] = False  # open for most checks
    check = Checker(spec, session, sim)
    await sim.emit_telegram()
    await check("GET", "/api/v1/system", expect=200)
    await check("GET", "/api/v1/report", expect=200)
    await check("GET", "/api/v1/settings", expect=200)
    await check("PUT", "/api/v1/settings", {"services": {"report_interval": 15}}, expect=200)
    await check("PUT", "/api/v1/settings", {"services": {"report_interval": 0}}, expect=400)
    await check("POST", "/api/v1/settings", {"system": {"name": "Plant A"}}, expect=200)
    await check("POST", "/api/v1/settings", raw="{nope", expect=400)
    await check("GET", "/api/v1/actions", expect=404)
    definition = {
        "const": {"host": "192.0.2.1"},
        "actions": [
            {"id": "1", "enable": True, "requests": [{"http": {"url": "http://${host}/"}}]}
        ],
    }
    await check("POST", "/api/v1/actions", definition, expect=200)
    await check("POST", "/api/v1/actions", {"actions": 1}, expect=400)
    await check("POST", "/api/v1/actions", raw=json.dumps({"p": "x" * 9000}), expect=413)
    await check("GET", "/api/v1/actions", expect=200)
    _, text, _ = await check("POST", "/api/v1/actions/call?id=1", expect=202)
    ids = json.loads(text)["status_ids"]
    await check("POST", "/api/v1/actions/call?id=1", expect=409)
    await check("POST", "/api/v1/actions/call?id=nope", expect=404)
    await check("GET", f"/api/v1/actions/status?id={ids[0]}", expect=200)
    await sim.actions.idle.wait()
    await check("GET", f"/api/v1/actions/status?id={ids[0]}", expect=200)
    await check("DELETE", "/api/v1/actions", expect=204)
    # Faults and auth on the live stream.
    sim.faults.status_503 = True
    await check("GET", "/api/v1/live", expect=503)
    sim.faults.status_503 = False
    # The POST-replace above cleared the password: protect again.
    sim.state.settings["system"].update(protection=True, password="pw")
    for route in ("/api/v1/live", "/api/v1/system", "/api/v1/report", "/api/v1/settings"):
        async with asyncio.timeout(5):
            _, _, headers = await check("GET", route, expect=401)
    challenge = headers["WWW-Authenticate"]
    auth = digest_header(challenge, "GET", "/api/v1/report", "pw")
    await check("GET", "/api/v1/report", headers={"Authorization": auth}, expect=200)
    sim.state.settings["system"]["protection"] = False
    sim.set_license("free")
    await check("GET", "/api/v1/report", expect=404)
    await check("GET", "/api/v1/actions/status?id=1", expect=404)
    sim.set_license("plus")
    sim.faults.status_429 = True
    await check("POST", "/api/v1/reboot", expect=429)
    await check("POST", "/api/v1/actions/call?id=1", expect=429)
    sim.faults.status_429 = False
    await check("POST", "/api/v1/reboot", expect=204)
    await sim.wait_up(10)
    await check("POST", "/api/v1/restore", expect=204)
    await sim.wait_up(10)
    await check("GET", "/api/v1/system", expect=200)
    assert len(check.checked) >= 30
