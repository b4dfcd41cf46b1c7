"""The integration's own MQTT payload template, and the one table it shares with the parser.

The device renders its MQTT template with ``${name}`` placeholders (docs/device-api.md
§12.3): numeric variables come out as bare numbers (``null`` when missing), text variables
raw (so they are quoted here). ``OWN_FIELDS`` is the single source of truth: it builds
``INTEGRATION_TEMPLATE`` and tells ``parse_mqtt.parse_mqtt_payload`` which payload key carries
which measurement. Version 2 adds the meter interface (``mi``) and ``VOLUME_SLOTS`` sub-meter
slots (``Vol``, read by ``parse_volume``).
"""

from __future__ import annotations

from typing import Final, NamedTuple


class TemplateField(NamedTuple):
    """One measurement in the integration's template: payload key, device variable, model key."""

    key: str
    variable: str
    measurement: str


# Marker key and value: a payload with this key is the integration's own template.
MARKER_KEY: Final = "wwha"
MARKER_VERSION: Final = 2  # 2: with the meter interface and the sub-meters

# Non-measurement payload keys of the own template.
KEY_DEVICE_ID: Final = "id"  # ${sys.id}
KEY_TIME_UTC: Final = "ts"  # ${meter.date_time_utc}, ISO-8601 UTC
KEY_TIMESTAMP: Final = "t"  # ${timestamp}, UNIX seconds
KEY_METER_STATUS: Final = "ms"  # ${meter.status}
KEY_TARIFF: Final = "tr"  # ${tariff}, 0 = unknown
KEY_METER_INTERFACE: Final = "mi"  # ${meter.interface}: P1 tells a sub-meter is gas by default
# The sub-meters: ``VOLUME_SLOTS`` entries in the live stream's shape (``parse_volume``), every
# value quoted so that a slot the device has no sub-meter for stays valid JSON.
KEY_VOLUMES: Final = "Vol"
VOLUME_FIELDS: Final = (
    ("Bus", "bus"),
    ("M_ID", "meter_id"),
    ("DT", "date_time"),
    ("Cum", "cumulative"),
)
# Four sub-meters fit in the device's 1023 characters (996 with them), a fifth would not (1104).
VOLUME_SLOTS: Final = 4

OWN_FIELDS: Final[tuple[TemplateField, ...]] = (
    TemplateField("pi", "1_7_0", "power_import"),
    TemplateField("pi1", "21_7_0", "power_import_l1"),
    TemplateField("pi2", "41_7_0", "power_import_l2"),
    TemplateField("pi3", "61_7_0", "power_import_l3"),
    TemplateField("po", "2_7_0", "power_export"),
    TemplateField("po1", "22_7_0", "power_export_l1"),
    TemplateField("po2", "42_7_0", "power_export_l2"),
    TemplateField("po3", "62_7_0", "power_export_l3"),
    TemplateField("qi", "3_7_0", "reactive_power_import"),
    TemplateField("qo", "4_7_0", "reactive_power_export"),
    TemplateField("s", "9_7_0", "apparent_power"),
    TemplateField("pf", "13_7_0", "power_factor"),
    TemplateField("u1", "32_7_0", "voltage_l1"),
    TemplateField("u2", "52_7_0", "voltage_l2"),
    TemplateField("u3", "72_7_0", "voltage_l3"),
    TemplateField("i1", "31_7_0", "current_l1"),
    TemplateField("i2", "51_7_0", "current_l2"),
    TemplateField("i3", "71_7_0", "current_l3"),
    TemplateField("ei", "1_8_0", "energy_import"),
    TemplateField("ei1", "1_8_1", "energy_import_t1"),
    TemplateField("ei2", "1_8_2", "energy_import_t2"),
    TemplateField("eo", "2_8_0", "energy_export"),
    TemplateField("eo1", "2_8_1", "energy_export_t1"),
    TemplateField("eo2", "2_8_2", "energy_export_t2"),
    TemplateField("qei", "3_8_0", "reactive_energy_import"),
    TemplateField("qeo", "4_8_0", "reactive_energy_export"),
    TemplateField("mdi", "1_6_0", "max_demand_import"),
    TemplateField("mdo", "2_6_0", "max_demand_export"),
)

# Payload key → measurement key, for the parser.
OWN_KEY_TO_MEASUREMENT: Final[dict[str, str]] = {f.key: f.measurement for f in OWN_FIELDS}

# Longest template the device accepts in ``publish.template``.
MAX_TEMPLATE_LENGTH: Final = 1023

DEFAULT_TOPIC_PREFIX: Final = "whatwatt"


def default_topic(device_id: str) -> str:
    """Return the topic the integration proposes for a device (``whatwatt/<DEVICE_ID>``)."""
    return f"{DEFAULT_TOPIC_PREFIX}/{device_id.upper()}"


def volume_slot(index: int) -> str:
    """Return the template's entry for sub-meter ``index`` (``vol[index].*``, quoted)."""
    fields = (f'"{key}":"${{vol[{index}].{variable}}}"' for key, variable in VOLUME_FIELDS)
    return "{" + ",".join(fields) + "}"


def build_template() -> str:
    """Build the integration's template from ``OWN_FIELDS`` (compact JSON, one object)."""
    parts = [
        f'"{MARKER_KEY}":{MARKER_VERSION}',
        f'"{KEY_DEVICE_ID}":"${{sys.id}}"',
        f'"{KEY_TIME_UTC}":"${{meter.date_time_utc}}"',
        f'"{KEY_TIMESTAMP}":${{timestamp}}',
        f'"{KEY_METER_STATUS}":"${{meter.status}}"',
        f'"{KEY_TARIFF}":${{tariff}}',
    ]
    parts.extend(f'"{f.key}":${{{f.variable}}}' for f in OWN_FIELDS)
    parts.append(f'"{KEY_METER_INTERFACE}":"${{meter.interface}}"')
    slots = ",".join(volume_slot(index) for index in range(VOLUME_SLOTS))
    parts.append(f'"{KEY_VOLUMES}":[{slots}]')
    return "{" + ",".join(parts) + "}"


INTEGRATION_TEMPLATE: Final[str] = build_template()


def is_integration_template(template: str | None) -> bool:
    """Return True when a device's ``publish.template`` is the integration's own (any version)."""
    return bool(template) and f'"{MARKER_KEY}":' in (template or "")
