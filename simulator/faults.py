"""Injectable faults of the simulated device (settable in-process or via POST /_sim/faults)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

FAULT_NAMES: tuple[str, ...] = (
    "refuse",
    "delay",
    "status_503",
    "status_429",
    "malformed",
    "meter_not_connected",
)


@dataclass
class Faults:
    """Fault switches; assigning one notifies the owning simulator at once.

    ``refuse``: the listening socket is closed (connection refused) and open connections
    are dropped. ``delay``: seconds to wait before answering. ``status_503``/``status_429``:
    answer every API request with that status. ``malformed``: 200 answers carry invalid
    JSON. ``meter_not_connected``: the meter link is down (no report, no live events).
    """

    refuse: bool = False
    delay: float = 0.0
    status_503: bool = False
    status_429: bool = False
    malformed: bool = False
    meter_not_connected: bool = False
    _listeners: list[Callable[[str], None]] = field(default_factory=list, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        """Set a fault and tell listeners which one changed."""
        changed = name in FAULT_NAMES and getattr(self, name, None) != value
        object.__setattr__(self, name, value)
        if changed:
            for listener in list(getattr(self, "_listeners", ())):
                listener(name)

    def add_listener(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener(name)`` whenever a fault changes; return an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def as_dict(self) -> dict[str, Any]:
        """Return the current fault switches as JSON-able data."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in FAULT_NAMES}

    def update(self, data: Mapping[str, Any]) -> None:
        """Apply a JSON object of fault switches; raise ValueError on bad names or types."""
        for key, value in data.items():
            if key not in FAULT_NAMES:
                raise ValueError(f"unknown fault {key!r}")
            if key == "delay":
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ValueError("delay must be a non-negative number")
            elif not isinstance(value, bool):
                raise ValueError(f"{key} must be a boolean")
        for key, value in data.items():
            setattr(self, key, float(value) if key == "delay" else value)

    def clear(self) -> None:
        """Switch every fault off."""
        self.update(dict.fromkeys(FAULT_NAMES, False) | {"delay": 0.0})
