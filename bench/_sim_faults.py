"""The faults ``bench.chaos_soak`` asks a simulator worker to play on one of its devices.

A command is one JSON line on the worker's stdin: ``{"id": 7, "fault": "<kind>", "device_id":
"...", "seconds": 42.0}``. The worker plays it in a task of its own (other commands go on) and
answers ``{"id": 7, "start": <monotonic>, "end": <monotonic>}`` once the device is back to
normal, or ``{"id": 7, "error": "..."}``. Kinds:

- ``reboot``: the device restarts, off the network for ``seconds``; a live stream open at that
  moment is broken off in the middle of an event, as when the device restarts while it writes;
- ``offline``: the device is unreachable for ``seconds`` (HTTP refused, MQTT client gone);
- ``live_refused``: the live stream alone answers 503 for ``seconds`` (an open one is closed);
- ``wrong_password``: the device refuses its password for ``seconds`` (an open live stream is
  closed, so that opening it again meets the refusal).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from simulator import Simulator

KINDS: Final = ("reboot", "offline", "live_refused", "wrong_password")


async def _reboot(sim: Simulator, seconds: float) -> None:
    sim.live.cut_mid_event()
    await sim.reboot(downtime=seconds)


async def _offline(sim: Simulator, seconds: float) -> None:
    sim.faults.offline = True
    await sim.settle()
    await asyncio.sleep(seconds)
    sim.faults.offline = False
    await sim.settle()


async def _live_refused(sim: Simulator, seconds: float) -> None:
    sim.live.refuse_status = 503
    sim.live.drop()
    await asyncio.sleep(seconds)
    sim.live.refuse_status = None


async def _wrong_password(sim: Simulator, seconds: float) -> None:
    sim.faults.wrong_password = True
    sim.live.drop()
    await asyncio.sleep(seconds)
    sim.faults.wrong_password = False


PLAYERS: Final[dict[str, Callable[[Simulator, float], Awaitable[None]]]] = {
    "reboot": _reboot,
    "offline": _offline,
    "live_refused": _live_refused,
    "wrong_password": _wrong_password,
}


async def play(sims: dict[str, Simulator], command: dict[str, Any]) -> dict[str, Any]:
    """Play one fault command; return the answer line (start and end in monotonic time)."""
    answer: dict[str, Any] = {"id": command.get("id")}
    sim = sims.get(str(command.get("device_id")))
    player = PLAYERS.get(str(command.get("fault")))
    if sim is None or player is None:
        answer["error"] = f"unknown device or fault: {command!r}"
        return answer
    answer["start"] = time.monotonic()
    try:
        await player(sim, float(command.get("seconds", 0.0)))
    except Exception as err:  # noqa: BLE001 - tell the soak, keep the worker
        answer["error"] = repr(err)
    answer["end"] = time.monotonic()
    return answer
