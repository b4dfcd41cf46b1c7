"""Repair issues of the whatwatt Go integration: raised when a cause appears, cleared when it goes.

Every issue belongs to one config entry (its id ends with the entry id) and links to its section of
the README. None is fixable from the UI: each says what to do and clears itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later

from .const import CONF_TRANSPORT, DOMAIN, TRANSPORT_LIVE, TRANSPORT_REST

if TYPE_CHECKING:
    from datetime import datetime

    from homeassistant.config_entries import ConfigEntry

    from .api.models import SystemInfo
    from .coordinator import WhatwattCoordinator

README_URL: Final = "https://github.com/whatwatt-go-ha/whatwatt-ha#"

ISSUE_LICENSE_INSUFFICIENT: Final = "license_insufficient"
ISSUE_LICENSE_CHANGED: Final = "license_changed"
ISSUE_MQTT_MISSING: Final = "mqtt_integration_missing"
ISSUE_METER_NOT_CONNECTED: Final = "meter_not_connected"
ISSUE_LIVE_TAKEN_OVER: Final = "live_stream_taken_over"
ISSUES: Final = (
    ISSUE_LICENSE_INSUFFICIENT,
    ISSUE_LICENSE_CHANGED,
    ISSUE_MQTT_MISSING,
    ISSUE_METER_NOT_CONNECTED,
    ISSUE_LIVE_TAKEN_OVER,
)
# README anchors (section "Repairs" of README.md).
_ANCHORS: Final = {
    ISSUE_LICENSE_INSUFFICIENT: "licence-insufficient",
    ISSUE_LICENSE_CHANGED: "licence-changed",
    ISSUE_MQTT_MISSING: "mqtt-integration-missing",
    ISSUE_METER_NOT_CONNECTED: "meter-not-connected",
    ISSUE_LIVE_TAKEN_OVER: "live-stream-taken-over",
}

METER_NOT_CONNECTED: Final = "NOT CONNECTED"
METER_ISSUE_AFTER: Final = timedelta(minutes=10)


def issue_id(kind: str, entry: ConfigEntry) -> str:
    """Return the id of an entry's issue of one kind."""
    return f"{kind}_{entry.entry_id}"


@callback
def async_raise_issue(
    hass: HomeAssistant,
    entry: ConfigEntry,
    kind: str,
    *,
    translation_key: str | None = None,
    severity: ir.IssueSeverity = ir.IssueSeverity.WARNING,
    placeholders: dict[str, str] | None = None,
) -> None:
    """Create (or update) an entry's issue; the entry title is the ``name`` placeholder."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(kind, entry),
        is_fixable=False,
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
    for kind in ISSUES:
        async_clear_issue(hass, entry, kind)


# -- licence ---------------------------------------------------------------------------------


@callback
def async_check_license(
    hass: HomeAssistant,
    entry: ConfigEntry,
    system: SystemInfo,
) -> None:
    """Follow the licence on every system read.

    REST and MQTT entries need Plus: on FREE they get "licence insufficient" until the licence
    is back. A live entry works on any licence (async_watch_license tells about changes).
    """
    transport = entry.data.get(CONF_TRANSPORT, TRANSPORT_REST)
    if transport == TRANSPORT_LIVE:
        return
    if system.is_licensed:
        async_clear_issue(hass, entry, ISSUE_LICENSE_INSUFFICIENT)
    else:
        async_raise_issue(
            hass,
            entry,
            ISSUE_LICENSE_INSUFFICIENT,
            translation_key=_insufficient_key(transport),
            severity=ir.IssueSeverity.ERROR,
        )


def _insufficient_key(transport: str) -> str:
    return f"{ISSUE_LICENSE_INSUFFICIENT}_{transport}"


@callback
def async_clear_stale_license_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Drop a "licence insufficient" issue raised for the transport the entry had before.

    The issue id is the same for every transport, its text is not: after a change of transport
    (reconfigure reloads the entry) an issue left from the old one no longer applies. Called
    when the entry is set up, before anything can raise it again.
    """
    found = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(ISSUE_LICENSE_INSUFFICIENT, entry))
    transport = entry.data.get(CONF_TRANSPORT, TRANSPORT_REST)
    if found is not None and found.translation_key != _insufficient_key(transport):
        async_clear_issue(hass, entry, ISSUE_LICENSE_INSUFFICIENT)


@callback
def async_watch_license(hass: HomeAssistant, coordinator: WhatwattCoordinator) -> CALLBACK_TYPE:
    """Tell a live entry's user when the licence differs from the one the entry started with.

    Raised as "upgraded" or "downgraded" while the licence differs, cleared when it is back
    and when the entry unloads. Returns the function that stops watching.
    """
    entry = coordinator.config_entry
    started = coordinator.system
    if entry.data.get(CONF_TRANSPORT, TRANSPORT_REST) != TRANSPORT_LIVE or started is None:
        return lambda: None
    seen = started

    @callback
    def check() -> None:
        nonlocal seen
        system = coordinator.system
        if system is None or system is seen:
            return  # no new system read
        seen = system
        if system.is_licensed == started.is_licensed:
            async_clear_issue(hass, entry, ISSUE_LICENSE_CHANGED)
            return
        async_raise_issue(
            hass,
            entry,
            ISSUE_LICENSE_CHANGED,
            translation_key="license_upgraded" if system.is_licensed else "license_downgraded",
            placeholders={"license": system.license or "?"},
        )

    remove_listener = coordinator.async_add_listener(check)

    @callback
    def stop() -> None:
        remove_listener()
        async_clear_issue(hass, entry, ISSUE_LICENSE_CHANGED)

    return stop


# -- Home Assistant's MQTT integration ------------------------------------------------------


@callback
def async_raise_mqtt_missing(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Tell that an ``mqtt`` entry cannot receive: Home Assistant's MQTT integration is missing."""
    async_raise_issue(hass, entry, ISSUE_MQTT_MISSING, severity=ir.IssueSeverity.ERROR)


@callback
def async_clear_mqtt_missing(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Home Assistant's MQTT integration is available (again)."""
    async_clear_issue(hass, entry, ISSUE_MQTT_MISSING)


# -- meter link ------------------------------------------------------------------------------


@callback
def async_watch_meter_link(hass: HomeAssistant, coordinator: WhatwattCoordinator) -> CALLBACK_TYPE:
    """Raise an issue when the meter stays disconnected from the device for 10 minutes.

    Follows the meter status of the coordinator's data (any transport). Returns the function
    that stops watching (and clears the issue).
    """
    entry = coordinator.config_entry
    timer: CALLBACK_TYPE | None = None

    def disconnected() -> bool:
        data = coordinator.data
        return data is not None and data.meter_status == METER_NOT_CONNECTED

    @callback
    def expired(_now: datetime) -> None:
        nonlocal timer
        timer = None
        if disconnected():
            async_raise_issue(
                hass,
                entry,
                ISSUE_METER_NOT_CONNECTED,
                placeholders={"minutes": str(int(METER_ISSUE_AFTER.total_seconds() // 60))},
            )

    @callback
    def check() -> None:
        nonlocal timer
        if disconnected():
            if timer is None and not _issue_exists(hass, entry, ISSUE_METER_NOT_CONNECTED):
                timer = async_call_later(hass, METER_ISSUE_AFTER, expired)
            return
        if timer is not None:
            timer()
            timer = None
        async_clear_issue(hass, entry, ISSUE_METER_NOT_CONNECTED)

    remove_listener = coordinator.async_add_listener(check)
    check()

    @callback
    def stop() -> None:
        nonlocal timer
        remove_listener()
        if timer is not None:
            timer()
            timer = None
        async_clear_issue(hass, entry, ISSUE_METER_NOT_CONNECTED)

    return stop


def _issue_exists(hass: HomeAssistant, entry: ConfigEntry, kind: str) -> bool:
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id(kind, entry)) is not None
