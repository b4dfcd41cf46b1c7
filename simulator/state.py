"""The simulated device's state: identity, settings, latest report and telegram listeners."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import copy
from datetime import timedelta
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from .clock import has_utc_stamps, now_utc, stamps
from .meter import METER_INFO, NOMINAL_INTERVAL
from .settings import (
    METER_SPEC,
    MQTT_SPEC,
    SETTINGS_SPEC,
    defaults,
    public_view,
    valid_ntp_server,
)

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

_LOGGER = logging.getLogger(__name__)

_NO_ADDRESS = ".".join("0" * 4)  # shown for a link that is down

TelegramListener = Callable[[dict[str, Any]], Awaitable[None] | None]

DEFAULT_MQTT_TEMPLATE = (
    # The flat-key template the vendor's own integration tells users to install: every value quoted.
    # The simulator's default template (``mqtt_url`` without ``mqtt_template``, configure_mqtt).
    '{"sys_id":"${sys.id}","meter_id":"${meter.id}","time":"${timestamp}",'
    '"power_in":"${1_7_0}","power_out":"${2_7_0}",'
    '"power_in_l1":"${21_7_0}","power_in_l2":"${41_7_0}","power_in_l3":"${61_7_0}",'
    '"power_out_l1":"${22_7_0}","power_out_l2":"${42_7_0}","power_out_l3":"${62_7_0}",'
    '"energy_in":"${1_8_0}","energy_out":"${2_8_0}",'
    '"energy_in_t1":"${1_8_1}","energy_in_t2":"${1_8_2}",'
    '"energy_out_t1":"${2_8_1}","energy_out_t2":"${2_8_2}",'
    '"voltage_l1":"${32_7_0}","voltage_l2":"${52_7_0}","voltage_l3":"${72_7_0}",'
    '"current_l1":"${31_7_0}","current_l2":"${51_7_0}","current_l3":"${71_7_0}",'
    '"power_factor":"${13_7_0}","apparent_power":"${9_7_0}",'
    '"reactive_power_in":"${3_7_0}","reactive_power_out":"${4_7_0}",'
    '"reactive_energy_in":"${3_8_0}","reactive_energy_out":"${4_8_0}","tariff":"${tariff}"}'
)


def random_hex(length: int) -> str:
    """Return ``length`` random upper-case hex digits."""
    return secrets.token_hex((length + 1) // 2)[:length].upper()


class DeviceState:
    """Everything a whatwatt Go knows and shows; shared by routes, live stream and MQTT.

    Public to other simulator parts: ``device_id``, ``firmware``, ``license`` (``FREE``/``PLUS``),
    ``settings``/``mqtt_settings``/``meter_settings`` (full, secrets included), ``report``
    (latest report JSON or None), ``meter_status``, ``mqtt_link``, ``system_json()``,
    ``add_telegram_listener()``.

    Time: the device's clock is real time plus ``clock_offset`` seconds (``device_now()``),
    shown in ``zone``; ``old_time_stamps`` forces the pre-1.10 time stamps (``date_time``
    only). The simulator sets all three from its faults.
    """

    def __init__(
        self,
        *,
        device_id: str,
        firmware: str,
        license_tier: str,
        profile: str,
        zone: tzinfo,
        host_name: str | None = None,
        device_name: str = "",
        ethernet_up: bool = False,
    ) -> None:
        """Create the factory state of a device (call ``boot()`` before use)."""
        self.device_id = device_id.upper()
        self.firmware = firmware
        self.license = license_tier.upper()
        self.activation_date = "2025-12-01T08:00:00Z"
        self.profile = profile
        # The meter's identity block (report ``meter``, system ``meter``, card ``MID``/``MIDENT``).
        self.meter_info: dict[str, str] = dict(METER_INFO[profile])
        self.zone = zone
        self.clock_offset = 0.0
        self.old_time_stamps = False
        self.ethernet_up = ethernet_up
        self.sd_card: dict[str, Any] = {"installed": False}  # set by simulator.sdcard
        self.reachable_hosts: frozenset[str] = frozenset()  # brokers beyond loopback
        self._default_host_name = host_name or f"whatwatt_{self.device_id[-6:]}"
        self._default_name = device_name
        self.settings: dict[str, Any] = {}
        self.mqtt_settings: dict[str, Any] = {}
        self.meter_settings: dict[str, Any] = {}
        self.actions: dict[str, Any] | None = None
        self.report: dict[str, Any] | None = None
        self.last_report_id = 0
        self.meter_status = "NO DATA"
        self.meter_connected = True
        self.mqtt_link: dict[str, bool] = {"enabled": False, "connected": False}
        self.boot_id = random_hex(8)
        self.boot_monotonic = time.monotonic()
        self.boot_wall = now_utc()
        self.telegram_interval = NOMINAL_INTERVAL.get(profile, 1.0)
        self._listeners: list[TelegramListener] = []
        self.restore_defaults()

    # -- identity and time -------------------------------------------------------------

    @property
    def full_stamps(self) -> bool:
        """Return True when the device prints ``date_time_local``/``date_time_utc``."""
        return has_utc_stamps(self.firmware) and not self.old_time_stamps

    @property
    def uptime(self) -> float:
        """Return seconds since the last boot."""
        return time.monotonic() - self.boot_monotonic

    @property
    def host_name(self) -> str:
        """Return the configured host name (also the auth realm)."""
        return str(self.settings["system"]["host_name"])

    @property
    def default_mqtt_topic(self) -> str:
        """Return ``whatwatt/<DEVICE_ID>``, the topic the simulator uses unless told otherwise."""
        return f"whatwatt/{self.device_id}"

    @property
    def licensed(self) -> bool:
        """Return True for a Plus (or higher) licence."""
        return self.license != "FREE"

    def device_now(self) -> datetime:
        """Return the device clock's idea of now (real UTC plus ``clock_offset``), in UTC."""
        return now_utc() + timedelta(seconds=self.clock_offset)

    def local_now(self) -> datetime:
        """Return the device's local wall-clock time."""
        return self.device_now().astimezone(self.zone)

    def last_boot(self) -> datetime:
        """Return the moment of the last boot on the device's clock (UTC)."""
        return self.boot_wall + timedelta(seconds=self.clock_offset)

    # -- configuration -------------------------------------------------------------------

    def restore_defaults(self) -> None:
        """Wipe configuration to factory defaults (``POST /api/v1/restore``)."""
        self.settings = defaults(SETTINGS_SPEC)
        self.settings["system"]["host_name"] = self._default_host_name
        self.settings["system"]["name"] = self._default_name
        self.mqtt_settings = defaults(MQTT_SPEC)
        self.meter_settings = defaults(METER_SPEC)
        self.actions = None

    def fix_ntp(self) -> None:
        """Drop an invalid custom NTP server and reset its switch (device behaviour)."""
        system = self.settings["system"]
        server = system.get("custom_ntp_server", "")
        if server and not valid_ntp_server(server):
            system["custom_ntp_server"] = ""
            system["use_custom_ntp_server"] = False

    @property
    def protection_active(self) -> bool:
        """Return True when HTTP auth is enforced (protection on and a password set)."""
        system = self.settings["system"]
        return bool(system.get("protection")) and bool(system.get("password"))

    @property
    def password(self) -> str:
        """Return the Web-UI password ('' when unset)."""
        return str(self.settings["system"].get("password") or "")

    def public_settings(self) -> dict[str, Any]:
        """Return ``GET /api/v1/settings``."""
        return public_view(self.settings, SETTINGS_SPEC)

    def public_mqtt_settings(self) -> dict[str, Any]:
        """Return ``GET /api/v1/mqtt/settings``."""
        return public_view(self.mqtt_settings, MQTT_SPEC)

    def public_meter_settings(self) -> dict[str, Any]:
        """Return ``GET /api/v1/meter/settings``."""
        return public_view(self.meter_settings, METER_SPEC)

    @property
    def report_interval(self) -> int:
        """Return ``services.report_interval`` (cadence of MQTT publishing)."""
        return int(self.settings["services"]["report_interval"])

    # -- boot and meter ------------------------------------------------------------------

    def boot(self) -> None:
        """Start a new boot: new boot id, uptime and report counter restart, no report yet."""
        self.boot_id = random_hex(8)
        self.boot_monotonic = time.monotonic()
        self.boot_wall = now_utc()
        self.report = None
        self.last_report_id = 0
        self.meter_status = "NOT CONNECTED" if not self.meter_connected else "NO DATA"

    def set_meter_connected(self, connected: bool) -> None:
        """Connect or disconnect the meter; a disconnected meter has no report."""
        self.meter_connected = connected
        if connected:
            if self.meter_status == "NOT CONNECTED":
                self.meter_status = "NO DATA"
        else:
            self.meter_status = "NOT CONNECTED"
            self.report = None

    def meter_block(self) -> dict[str, Any]:
        """Return the ``meter`` block of the report."""
        return {"status": self.meter_status, **self.meter_info}

    def system_block(self) -> dict[str, Any]:
        """Return the ``system`` block of the report."""
        return {
            "id": self.device_id,
            **stamps(self.device_now(), self.zone, full=self.full_stamps),
            "boot_id": self.boot_id,
            "time_since_boot": int(self.uptime),
        }

    def report_json(self) -> dict[str, Any]:
        """Return ``GET /api/v1/report``: the latest report, or a skeleton without values."""
        if self.report is not None:
            out = copy.deepcopy(self.report)
            if not self.full_stamps:
                for key in ("date_time_local", "date_time_utc"):
                    out["report"].pop(key, None)
            out["system"] = self.system_block()
            return out
        return {
            "report": {"id": self.last_report_id, "interval": self.telegram_interval},
            "meter": self.meter_block(),
            "system": self.system_block(),
        }

    def set_report(self, body: dict[str, Any], moment: datetime) -> dict[str, Any]:
        """Store a new decoded telegram (``body`` = measurement part) and return the report JSON.

        ``moment`` is the decoding time on the device's clock (``device_now()``).
        """
        self.last_report_id += 1
        self.meter_status = "OK"
        report = {
            "id": self.last_report_id,
            "interval": self.telegram_interval,
            **({"tariff": body["tariff"]} if "tariff" in body else {}),
            **stamps(moment, self.zone, full=self.full_stamps),
            **{k: v for k, v in body.items() if k != "tariff"},
        }
        self.report = {
            "report": report,
            "meter": self.meter_block(),
            "system": self.system_block(),
        }
        return copy.deepcopy(self.report)

    # -- listeners -----------------------------------------------------------------------

    def add_telegram_listener(self, cb: TelegramListener) -> Callable[[], None]:
        """Call ``cb(report_json)`` for every new report; return an unsubscribe function."""
        self._listeners.append(cb)

        def remove() -> None:
            if cb in self._listeners:
                self._listeners.remove(cb)

        return remove

    async def notify_telegram(self, report: dict[str, Any]) -> None:
        """Hand a new report to every listener (errors are logged, never raised)."""
        for cb in list(self._listeners):
            try:
                result = cb(copy.deepcopy(report))
                if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                    await result
            except Exception:
                _LOGGER.exception("telegram listener failed")

    # -- system --------------------------------------------------------------------------

    def system_json(self) -> dict[str, Any]:
        """Return ``GET /api/v1/system``."""
        local = self.local_now()
        boot_local = self.last_boot().astimezone(self.zone)
        info = self.meter_info
        p1 = self.profile == "p1-single"
        mac = self.device_id
        eth_mac = f"{int(mac, 16) + 3:012X}"[-12:] if _is_hex(mac) else mac
        report_body = (self.report or {}).get("report", {})
        meter: dict[str, Any] = {
            "status": self.meter_status,
            "interface": info["interface"] if self.meter_connected else "NONE",
            "id": info["id"],
            "manufacturer": info["vendor"],
            "type": info["logical_name"],
            "model": info["model"],
            "protocol": info["protocol"],
            "protocol_version": info["protocol_version"],
            "report_interval": self.telegram_interval,
            "enc_en": False,
            "auth_en": False,
            "date": local.strftime("%Y-%m-%d"),
            "time": local.strftime("%H:%M:%S"),
        }
        if "tariff" in report_body:
            meter["tariff"] = report_body["tariff"]
        mqtc = {
            "enabled": bool(self.mqtt_link.get("enabled")),
            "connected": bool(self.mqtt_link.get("connected")),
        }
        cloud = self.settings["services"]["cloud"]
        return {
            "device": {
                "name": self.settings["system"]["name"],
                "id": self.device_id,
                "model": "WW_Go_1.2",
                "firmware": self.firmware,
                "build": "sim0001-65f0e1a2",
                "upgrade_capable": True,
                "date": local.strftime("%Y-%m-%d"),
                "time": local.strftime("%H:%M:%S"),
                "time_since_boot": int(self.uptime),
                "last_reboot": {
                    "date": boot_local.strftime("%Y-%m-%d"),
                    "time": boot_local.strftime("%H:%M:%S"),
                },
                "plug": {
                    "v_usb": 5.02 if self.ethernet_up else 0.0,
                    "v_mbus": 0.0 if p1 else 23.1,
                    "v_p1": 5.01 if p1 else 0.4,
                    "v_scap": 4.92,
                },
                "license": {"type": self.license, "activation_date": self.activation_date},
            },
            "clouds": {
                "whatwatt": {
                    "enabled": bool(cloud["what_watt"]),
                    "connected": False,
                    "registered": True,
                },
                "mystrom": {"enabled": bool(cloud["mystrom"]), "status": "DISCONNECTED"},
                "solar_manager": {"enabled": bool(cloud["solar_manager"]), "connected": False},
                "mqtc": mqtc,
                "stromkonto": {"enabled": bool(cloud["stromkonto"]), "connected": False},
            },
            "services": {"berry": {"execution_status": {"state": "IDLE"}}},
            "meter": meter,
            "wifi": {
                "ssid": "home",
                "bssid": "112233445566",
                "channel": 6,
                "ht": "20",
                "rssi": -61,
                "signal": 78,
                "auth_mode": "WPA2",
                "pairwise_cipher": "CCMP",
                "group_cipher": "CCMP",
                "phy": "bgn",
                "wps": False,
                "country": "CH",
                "mac": mac,
                "ip": "127.0.0.1",
                "mask": "255.0.0.0",
                "gateway": "127.0.0.1",
                "dns": "127.0.0.1",
                "status": "OK",
                "mode": "STA",
            },
            "ethernet": {
                "mac": eth_mac,
                "status": "Up" if self.ethernet_up else "Down",
                "ip": _NO_ADDRESS,
                "mask": _NO_ADDRESS,
                "gateway": _NO_ADDRESS,
                "dns": _NO_ADDRESS,
            },
            "sd_card": dict(self.sd_card),
        }


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True
