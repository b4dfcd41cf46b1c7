"""How reads of the device compare: changed settings, the same boot or a new one, progress."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from .models import DeviceEvent
from .parse_common import as_text

if TYPE_CHECKING:
    from .models import DeviceState, MqttSettings, Report, Settings, SystemInfo

# A boot time within this many seconds of the known one is the same boot.
_LAST_BOOT_TOLERANCE: Final = 60.0

# The device events (the ``device_event`` entity's event types).
EVENT_SETTINGS_CHANGED: Final = "settings_changed"
EVENT_MQTT_SETTINGS_CHANGED: Final = "mqtt_settings_changed"
EVENT_REBOOTED: Final = "rebooted"
EVENT_METER_EXCHANGED: Final = "meter_exchanged"  # found by the energy guard


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    """Return a nested settings object as ``{"a.b": value}``."""
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flat(value, f"{prefix}{key}."))
    return {key.rstrip("."): value for key, value in flat.items()}


def changed_keys(before: Any, after: Any) -> tuple[str, ...]:
    """Return the dotted keys whose values differ between two settings objects."""
    old, new = _flat(before), _flat(after)
    return tuple(sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key)))


def device_events(
    before: DeviceState, after: DeviceState, *, rebooted: bool
) -> tuple[DeviceEvent, ...]:
    """Return what changed on the device between two reads (``rebooted``: a restart to tell)."""
    events = [DeviceEvent(EVENT_REBOOTED)] if rebooted else []
    for event_type, old, new in (
        (EVENT_SETTINGS_CHANGED, before.settings, after.settings),
        (EVENT_MQTT_SETTINGS_CHANGED, before.mqtt_settings, after.mqtt_settings),
    ):
        if old is not None and new is not None and (keys := changed_keys(old.raw, new.raw)):
            events.append(DeviceEvent(event_type, (("changed", list(keys)),)))
    return tuple(events)


def meter_exchanged(old: str | None, new: str | None) -> DeviceEvent:
    """Return the event of a meter exchange found by the energy guard."""
    return DeviceEvent(EVENT_METER_EXCHANGED, (("old_meter_id", old), ("new_meter_id", new)))


def system_after_write(
    system: SystemInfo, settings: Settings | None, mqtt_settings: MqttSettings | None
) -> SystemInfo:
    """Return the system information as the device's answer to a write shows it.

    The name follows the settings; a client switched off is no longer connected (the next
    read tells when a client switched on has connected).
    """
    changes: dict[str, Any] = {}
    if settings is not None and settings.name is not None:
        changes["name"] = as_text(settings.name)
    if mqtt_settings is not None and mqtt_settings.enable is not None:
        changes["mqtt_enabled"] = mqtt_settings.enable
        if not mqtt_settings.enable:
            changes["mqtt_connected"] = False
    return replace(system, **changes) if changes else system


def boot_time(system: SystemInfo, now: datetime, known: datetime | None) -> datetime | None:
    """Return the device's boot time; the known one while the new one is within tolerance."""
    if system.uptime is not None:
        boot = (now - timedelta(seconds=system.uptime)).replace(microsecond=0)
    elif system.last_boot is not None:
        boot = system.last_boot
    else:
        return known
    if known is not None and abs((boot - known).total_seconds()) <= _LAST_BOOT_TOLERANCE:
        return known
    return boot


class ReadingProgress:
    """Follow the readings of one device: whether its report counter advances, restarts."""

    def __init__(self) -> None:
        """Start with nothing seen."""
        self._report_id: int | None = None
        self._report_id_since: datetime | None = None
        self._boot: tuple[str | None, float | None] = (None, None)

    def advancing(self, report: Report, now: datetime, stale_after: float) -> bool:
        """Return False once the report counter stood still for longer than ``stale_after`` s."""
        if report.report_id is None:
            return True
        if report.report_id != self._report_id or self._report_id_since is None:
            self._report_id = report.report_id
            self._report_id_since = now
            return True
        return (now - self._report_id_since).total_seconds() <= stale_after

    def restarted(self, report: Report) -> bool:
        """Return True when a reading shows a restart (a new boot id, a smaller uptime)."""
        boot_id, uptime = report.boot_id, report.uptime
        known_id, known_uptime = self._boot
        self._boot = (boot_id or known_id, uptime)
        return (boot_id is not None and known_id is not None and boot_id != known_id) or (
            uptime is not None and known_uptime is not None and uptime + 1 < known_uptime
        )
