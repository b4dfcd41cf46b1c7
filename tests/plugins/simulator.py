"""Fixture ``simulator_factory``: start simulated whatwatt Go devices on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import pytest

from simulator import Simulator, SimulatorConfig

SimulatorFactory = Callable[..., Awaitable[Simulator]]


@pytest.fixture
async def simulator_factory(socket_enabled: None) -> AsyncGenerator[SimulatorFactory]:
    """Return ``await factory(**SimulatorConfig kwargs)`` → a started Simulator on a free port.

    Every simulator started here is stopped at teardown (no tasks, timers or sockets left).
    """
    started: list[Simulator] = []

    async def factory(**kwargs: Any) -> Simulator:
        kwargs.setdefault("host", "127.0.0.1")
        kwargs.setdefault("port", 0)
        sim = Simulator(SimulatorConfig(**kwargs))
        started.append(sim)
        await sim.start()
        return sim

    yield factory
    for sim in reversed(started):
        await sim.stop()
