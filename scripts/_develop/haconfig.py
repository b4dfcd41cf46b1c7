"""Write a Home Assistant configuration folder that starts offline with onboarding done."""

from __future__ import annotations

import json
from pathlib import Path

# The documented development login (printed by scripts/develop and shown in the README).
DEV_NAME = "Developer"
DEV_USER = "dev"
DEV_PASSWORD = "dev"  # noqa: S105 - a local development login, documented on purpose

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION_DIR = ROOT / "custom_components" / "whatwatt"
# Development only: starts zeroconf discovery flows for simulated devices (not the integration).
DISCOVERY_DIR = Path(__file__).resolve().parent / "dev_discovery"
DISCOVERY_DOMAIN = "whatwatt_dev_discovery"

_CONFIGURATION = """\
# Written by scripts/develop on every start: edit scripts/_develop/haconfig.py instead.
# No default_config: it pulls in integrations that want more packages and the internet.
homeassistant:
  name: whatwatt development
  latitude: 47.3769
  longitude: 8.5417
  elevation: 408
  unit_system: metric
  time_zone: Europe/Zurich
  currency: CHF
  country: CH
  language: en

http:
  server_host: {bind}
  server_port: {port}

frontend:
config:
# Statistics and the Energy dashboard (the SD-card fill writes long-term statistics); offline.
recorder:
energy:

logger:
  default: warning
  logs:
    custom_components.whatwatt: debug
    homeassistant.components.mqtt: info
"""

# Onboarding steps marked done before the first start; only the owner account is left, and
# hass_api.ensure_token() creates it through the onboarding API.
_ONBOARDING_DONE = ["core_config", "analytics", "integration"]


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() and link.resolve() != target:
        link.unlink()
    if not link.exists():
        link.symlink_to(target, target_is_directory=True)


def discovery_yaml(discovered: list[tuple[str, int, str]]) -> str:
    """Return the configuration of the development discovery (host, port, device id each)."""
    if not discovered:
        return ""
    lines = [
        f"  - {{host: {host}, port: {port}, id: {device_id}}}"
        for host, port, device_id in discovered
    ]
    return f"{DISCOVERY_DOMAIN}:\n" + "\n".join(lines) + "\n"


def write_config(
    config_dir: Path,
    *,
    port: int,
    bind: str = "127.0.0.1",
    discovered: list[tuple[str, int, str]] | None = None,
) -> None:
    """Create or refresh `config_dir` for a Home Assistant listening on `bind:port`.

    `configuration.yaml` is rewritten each time (the port may change); the `.storage/`
    folder, and with it the owner account and the config entries, is kept. The devices in
    `discovered` (host, port, device id) are announced as zeroconf would (`dev_discovery`).
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        _CONFIGURATION.format(bind=bind, port=port) + discovery_yaml(discovered or []),
        encoding="utf-8",
    )
    components = config_dir / "custom_components"
    components.mkdir(exist_ok=True)
    _link(components / "whatwatt", INTEGRATION_DIR)
    _link(components / DISCOVERY_DOMAIN, DISCOVERY_DIR)
    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    onboarding = storage / "onboarding"
    if not onboarding.exists():
        onboarding.write_text(
            json.dumps(
                {
                    "version": 4,
                    "minor_version": 1,
                    "key": "onboarding",
                    "data": {"done": _ONBOARDING_DONE},
                },
                indent=2,
            ),
            encoding="utf-8",
        )
