"""Helpers shared by the API tests: fixture files, value checks, log lines, simulated devices."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from custom_components.whatwatt.api import WhatwattClient
from custom_components.whatwatt.api.models import MeterInfo

if TYPE_CHECKING:
    from collections.abc import Mapping

    import aiohttp
    import pytest

    from simulator import Simulator
    from tests.plugins.simulator import SimulatorFactory

# A request handler of a hand-rolled device (the ``fake_device`` fixture).
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

FIXTURES = Path(__file__).parent.parent / "fixtures"

# The meter block of ``report_dlms_three.json`` and ``system.json``: one Landis+Gyr meter.
FIXTURE_METER = MeterInfo(
    status="OK",
    interface="MBUS",
    protocol="DLMS",
    vendor="Landis+Gyr",
    serial="LGZ1234567890123",
    report_interval=5.02,
    tariff=2,
)


def fixture_text(name: str) -> str:
    """Return the text of a file in ``tests/fixtures``."""
    return (FIXTURES / name).read_text(encoding="utf-8")


def load(name: str) -> Any:
    """Return the JSON document of a file in ``tests/fixtures``."""
    return json.loads(fixture_text(name))


def assert_values(values: Mapping[str, float], expected: Mapping[str, float]) -> None:
    """Every expected key is there with its value (other keys may be there too)."""
    assert {key: values.get(key) for key in expected} == dict(expected)


def assert_none(found: object, *names: str) -> None:
    """Each named attribute of ``found`` is None."""
    assert {name: getattr(found, name) for name in names} == dict.fromkeys(names)


def log_messages(caplog: pytest.LogCaptureFixture, logger: str, level: int) -> list[str]:
    """Return the messages one logger wrote at exactly one level."""
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno == level]


async def start_device(
    simulator_factory: SimulatorFactory,
    session: aiohttp.ClientSession,
    password: str | None = None,
    **config: Any,
) -> tuple[Simulator, WhatwattClient]:
    """Start a simulator (no telegrams of its own unless asked) and a client for it.

    With a password the device asks for Digest auth and the client knows the password.
    """
    config.setdefault("telegram_interval", 0)
    if password is not None:
        config.update(auth="digest", password=password)
    sim = await simulator_factory(**config)
    return sim, WhatwattClient(session, sim.host, password)
