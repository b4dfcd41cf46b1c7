"""The MQTT subscription: readings arrive through Home Assistant's MQTT integration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components import mqtt
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError

from .api.mqtt_input import MqttInputGuard
from .api.requests import topic_error
from .const import CONF_TOPIC, DOMAIN, LOGGER

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.config_entries import ConfigEntry

    from .api.models import DeviceState, Report


class MqttSource:
    """Subscribe to the device's topic and hand every reading of this device on."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        device_id: str,
        on_report: Callable[[Report], None],
    ) -> None:
        """Bind the source to its entry; nothing runs before ``async_start``."""
        self._hass = hass
        self._entry = entry
        self._device_id = device_id
        self._on_report = on_report
        self.topic: str = entry.data[CONF_TOPIC]
        self._guard = MqttInputGuard(entry.title)
        self._last: Report | None = None
        self._unsubscribe: CALLBACK_TYPE | None = None
        self._started = False
        # Logged once: a client switched off (False), unusable topics, foreign messages (None).
        self._logged: set[object] = set()
        # While a taken-over entry learns its device id (migration.py): True adopts the id.
        self.learn_device_id: Callable[[str], bool] | None = None

    async def async_start(self) -> None:
        """Subscribe to the topic."""
        self._started = True
        try:
            self._unsubscribe = await self._async_subscribe(self.topic)
        except HomeAssistantError as err:  # MQTT going down meanwhile: try again later
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="mqtt_not_available"
            ) from err

    async def async_stop(self) -> None:
        """Unsubscribe."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def diagnostics(self) -> dict[str, Any]:
        """Return the topic and whether it is subscribed."""
        return {"topic": self.topic, "subscribed": self._unsubscribe is not None}

    async def _async_subscribe(self, topic: str) -> CALLBACK_TYPE:
        return await mqtt.async_subscribe(
            self._hass, topic, self._async_message, qos=0, encoding=None
        )

    async def async_set_topic(self, topic: str) -> None:
        """Follow a new publish topic: the old subscription ends once the new one is in place."""
        if topic == self.topic and self._unsubscribe is not None:
            return
        new = await self._async_subscribe(topic)
        old, self._unsubscribe = self._unsubscribe, new
        self._take_topic(topic)
        if old is not None:
            old()
        LOGGER.info("%s now listens on MQTT topic %s", self._entry.title, topic)

    @callback
    def _take_topic(self, topic: str) -> None:
        """Listen on ``topic`` from now on, and store it with the entry."""
        self.topic = topic
        if self._entry.data.get(CONF_TOPIC) != topic:
            self._hass.config_entries.async_update_entry(
                self._entry, data={**self._entry.data, CONF_TOPIC: topic}
            )

    @callback
    def async_follow_device(self, state: DeviceState) -> None:
        """Re-subscribe when the device's publish topic changed (written here or elsewhere)."""
        if (mqtt_settings := state.mqtt_settings) is None:
            return
        if mqtt_settings.enable is False and False not in self._logged:
            self._logged.add(False)
            LOGGER.warning(
                "The MQTT client of %s is disabled: this entry receives no MQTT data until it "
                "is enabled again",
                self._entry.title,
            )
        elif mqtt_settings.enable:
            self._logged.discard(False)
        if not (topic := mqtt_settings.topic) or topic == self.topic or topic in self._logged:
            return
        if topic_error(topic) is not None:
            self._logged.add(topic)
            LOGGER.warning(
                "%s publishes to %r, which cannot be subscribed to as one topic; this entry "
                "keeps listening on %s",
                self._entry.title,
                topic,
                self.topic,
            )
            return
        if not self._started:  # set-up: async_start subscribes to it
            self._take_topic(topic)
            LOGGER.info("%s listens on MQTT topic %s", self._entry.title, topic)
            return
        self._entry.async_create_background_task(
            self._hass, self.async_set_topic(topic), f"{DOMAIN} re-subscribe {self._entry.title}"
        )

    @callback
    def _async_message(self, msg: mqtt.ReceiveMessage) -> None:
        """Read one message and hand its reading on."""
        report = self._guard.parse(msg.topic, msg.payload)
        if report is None:
            return
        if self.learn_device_id is not None:
            if report.device_id is None or not self.learn_device_id(report.device_id):
                return
            self.learn_device_id = None
            self._device_id = report.device_id
        if report.device_id != self._device_id:
            if None not in self._logged:
                self._logged.add(None)
                LOGGER.info(
                    "Ignoring MQTT messages on %s that are not from %s (device id %s); "
                    "not logged again",
                    msg.topic,
                    self._device_id,
                    report.device_id or "missing",
                )
            return
        report = self._guard.accept(msg.topic, report, self._last)
        self._last = report
        self._on_report(report)
