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


def write_config(config_dir: Path, *, port: int, bind: str = "127.0.0.1") -> None:
    """Create or refresh `config_dir` for a Home Assistant listening on `bind:port`.

    `configuration.yaml` is rewritten each time (the port may change); the `.storage/`
    folder, and with it the owner account and the config entries, is kept.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        _CONFIGURATION.format(bind=bind, port=port), encoding="utf-8"
    )
    components = config_dir / "custom_components"
    components.mkdir(exist_ok=True)
    link = components / "whatwatt"
    if link.is_symlink() and link.resolve() != INTEGRATION_DIR:
        link.unlink()
    if not link.exists():
        link.symlink_to(INTEGRATION_DIR, target_is_directory=True)
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
