"""Repair issues: raised when a cause appears, cleared when it goes (``docs/architecture.md``)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later

from .const import DOMAIN, TRANSPORT_LIVE, transport_of

if TYPE_CHECKING:
    from datetime import datetime

    from homeassistant.config_entries import ConfigEntry

    from .coordinator import DeviceCoordinator, MeasurementCoordinator

README_URL: Final = "https://github.com/whatwatt-go-ha/whatwatt-ha#"

ISSUE_LICENSE_INSUFFICIENT: Final = "license_insufficient"
ISSUE_LICENSE_CHANGED: Final = "license_changed"
ISSUE_MQTT_MISSING: Final = "mqtt_integration_missing"
ISSUE_METER_NOT_CONNECTED: Final = "meter_not_connected"
ISSUE_LIVE_TAKEN_OVER: Final = "live_stream_taken_over"
ISSUE_SD_LOGGING: Final = "sd_logging_off"
ISSUE_VENDOR_DUPLICATE: Final = "vendor_duplicate"
# Every kind of issue, with its README anchor.
_ANCHORS: Final = {
    ISSUE_LICENSE_INSUFFICIENT: "licence-insufficient",
    ISSUE_LICENSE_CHANGED: "licence-changed",
    ISSUE_MQTT_MISSING: "mqtt-integration-missing",
    ISSUE_METER_NOT_CONNECTED: "meter-not-connected",
    ISSUE_LIVE_TAKEN_OVER: "live-stream-taken-over",
    ISSUE_SD_LOGGING: "history-gap-not-filled",
    ISSUE_VENDOR_DUPLICATE: "coming-from-the-vendors-integration",
}

METER_NOT_CONNECTED: Final = "NOT CONNECTED"
METER_ISSUE_AFTER: Final = timedelta(minutes=10)


def issue_id(kind: str, entry: ConfigEntry) -> str:
    """Return the id of an entry's issue of one kind."""
    return f"{kind}_{entry.entry_id}"


def _found(hass: HomeAssistant, entry: ConfigEntry, kind: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id(kind, entry))


@callback
def async_raise_issue(
    hass: HomeAssistant,
    entry: ConfigEntry,
    kind: str,
    *,
    translation_key: str | None = None,
    severity: ir.IssueSeverity = ir.IssueSeverity.WARNING,
    placeholders: dict[str, str] | None = None,
    fixable: bool = False,
) -> None:
    """Create (or update) an entry's issue; a fixable one carries the entry id for its fix flow."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(kind, entry),
        is_fixable=fixable,
        data={"entry_id": entry.entry_id} if fixable else None,
        is_persistent=False,
        severity=severity,
        learn_more_url=README_URL + _ANCHORS[kind],
        translation_key=translation_key or kind,
        translation_placeholders={"name": entry.title, **(placeholders or {})},
    )


@callback
def async_clear_issue(hass: HomeAssistant, entry: ConfigEntry, kind: str) -> None:
    """Delete an entry's issue of one kind (nothing happens when there is none)."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))


@callback
def async_clear_entry_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Delete every issue of an entry (the entry is being removed)."""
    for kind in _ANCHORS:
        async_clear_issue(hass, entry, kind)


@callback
def async_set_mqtt_missing(hass: HomeAssistant, entry: ConfigEntry, *, missing: bool) -> None:
    """Tell whether an ``mqtt`` entry lacks Home Assistant's MQTT integration (raise or clear)."""
    if missing:
        async_raise_issue(hass, entry, ISSUE_MQTT_MISSING, severity=ir.IssueSeverity.ERROR)
    else:
        async_clear_issue(hass, entry, ISSUE_MQTT_MISSING)


def _insufficient_key(transport: str) -> str:
    return f"{ISSUE_LICENSE_INSUFFICIENT}_{transport}"


@callback
def async_clear_stale_license_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Drop a "licence insufficient" issue raised for the transport the entry had before."""
    found = _found(hass, entry, ISSUE_LICENSE_INSUFFICIENT)
    if found is not None and found.translation_key != _insufficient_key(transport_of(entry)):
        async_clear_issue(hass, entry, ISSUE_LICENSE_INSUFFICIENT)


@callback
def async_watch_license(hass: HomeAssistant, entry: ConfigEntry, device: DeviceCoordinator) -> None:
    """Follow the licence on every device read, until the entry unloads."""
    transport = transport_of(entry)
    started = device.data.system if device.data.fetched is not None else None

    @callback
    def check() -> None:
        nonlocal started
        if device.data.fetched is None:
            return  # nothing read yet
        system = device.data.system
        if transport != TRANSPORT_LIVE:  # REST and MQTT need Plus
            if system.is_licensed:
                async_clear_issue(hass, entry, ISSUE_LICENSE_INSUFFICIENT)
            else:
                key, severity = _insufficient_key(transport), ir.IssueSeverity.ERROR
                async_raise_issue(
                    hass, entry, ISSUE_LICENSE_INSUFFICIENT, translation_key=key, severity=severity
                )
            return
        if started is None:
            started = system
        if system.is_licensed == started.is_licensed:
            async_clear_issue(hass, entry, ISSUE_LICENSE_CHANGED)
            return
        key = "license_upgraded" if system.is_licensed else "license_downgraded"
        placeholders = {"license": system.license or "?"}
        async_raise_issue(
            hass, entry, ISSUE_LICENSE_CHANGED, translation_key=key, placeholders=placeholders
        )

    entry.async_on_unload(lambda: async_clear_issue(hass, entry, ISSUE_LICENSE_CHANGED))
    entry.async_on_unload(device.async_add_listener(check))
    check()


@callback
def async_watch_meter_link(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: DeviceCoordinator,
    measurements: MeasurementCoordinator,
) -> None:
    """Follow the meter status of readings and device reads, until the entry unloads."""
    timer: CALLBACK_TYPE | None = None
    cleared = False  # neither an issue nor a timer since the last clear (checked every reading)
    placeholders = {"minutes": str(METER_ISSUE_AFTER // timedelta(minutes=1))}

    @callback
    def expired(_now: datetime) -> None:
        nonlocal timer
        timer = None
        if measurements.meter_status == METER_NOT_CONNECTED:
            async_raise_issue(hass, entry, ISSUE_METER_NOT_CONNECTED, placeholders=placeholders)

    @callback
    def clear() -> None:
        nonlocal timer, cleared
        if timer is not None:
            timer()
            timer = None
        async_clear_issue(hass, entry, ISSUE_METER_NOT_CONNECTED)
        cleared = True

    @callback
    def check() -> None:
        nonlocal timer, cleared
        if measurements.meter_status != METER_NOT_CONNECTED:
            if not cleared:
                clear()
            return
        cleared = False
        if timer is None and _found(hass, entry, ISSUE_METER_NOT_CONNECTED) is None:
            timer = async_call_later(hass, METER_ISSUE_AFTER, expired)

    entry.async_on_unload(clear)
    entry.async_on_unload(device.async_add_listener(check))
    entry.async_on_unload(measurements.async_add_listener(check))
    check()
