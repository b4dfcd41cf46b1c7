"""Configuration of one simulated whatwatt Go device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AuthMode = Literal["none", "basic", "digest"]
LicenseTier = Literal["free", "plus"]
ProfileName = Literal["p1-single", "dlms-three", "p1-gas", "dlms-water-heat"]

# p1-gas / dlms-water-heat: the meter profile with one / two sub-meters (simulator.submeters).
PROFILES: tuple[str, ...] = ("p1-single", "dlms-three", "p1-gas", "dlms-water-heat")


@dataclass(slots=True)
class SimulatorConfig:
    """Everything needed to start a simulated device.

    ``auth`` picks the HTTP authentication scheme used while protection is active:
    ``"digest"`` or ``"basic"``; ``"none"`` keeps any ``password`` stored but protection
    off. A ``password`` (with auth other than ``"none"``) turns protection on at start.
    ``telegram_interval`` of 0 or less stops the automatic meter loop (use
    ``Simulator.emit_telegram()`` for deterministic tests).
    ``timezone`` is the device's local zone (IANA name, ``UTC`` or ``+02:00``-style offset);
    the ``timezone`` fault replaces it at run time. ``clock_offset`` is the initial value of
    the ``clock_offset`` fault (seconds the device clock is ahead, negative: behind).
    ``meter_id`` is the meter's ``meter.id`` (empty: the meter sends none, as the profiles do).
    """

    host: str = "127.0.0.1"
    port: int = 0
    auth: AuthMode = "digest"
    password: str | None = None
    license: LicenseTier = "plus"
    profile: ProfileName = "p1-single"
    firmware: str = "1.10.3"
    device_id: str = "A1B2C3D4E5F6"
    host_name: str | None = None  # default whatwatt_XXXXXX
    device_name: str = ""
    mqtt_url: str | None = None
    mqtt_topic: str | None = None
    mqtt_template: str | None = None
    report_interval: int = 30
    telegram_interval: float = 1.0
    nonce_lifetime: float = 300.0
    reboot_downtime: float = 2.0
    digest_qop: str = "auth"  # advertised qop; "auth,auth-int" also possible
    ethernet_up: bool = False
    timezone: str = "Europe/Zurich"
    clock_offset: float = 0.0
    seed: int | None = None
    action_fake_delay: float = 0.05  # seconds a non-local action request "runs" before failing
    sd_card: bool = False  # a card is mounted at start (simulator.sdcard; logging stays off)
    # Broker hosts the device's network reaches besides loopback (the development stack's
    # network address); any other broker is unreachable (simulator.mqtt).
    reachable_hosts: tuple[str, ...] = ()
    meter_id: str = ""
