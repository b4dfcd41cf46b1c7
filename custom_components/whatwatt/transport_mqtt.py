"""The MQTT transport: readings arrive through Home Assistant's MQTT integration.

The device publishes its template to one topic every ``services.report_interval`` seconds.
This transport subscribes to it, reads each message with the one MQTT parser and pushes it to
the coordinator, whose watchdog marks the measurements stale after three silent intervals.
With a known address (``host``), REST gives the state at start-up, the system information every
few minutes (the base transport's device read) and, while MQTT is silent but the device answers,
a fallback: the report is polled until messages flow again. MQTT-only entries (no address), and
entries whose device does not answer over REST at start-up, start from the device id alone;
entities appear with the first message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import mqtt
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.util import dt as dt_util

from .api.errors import WhatwattAuthError, WhatwattError
from .api.models import SystemInfo
from .const import CONF_TOPIC, DOMAIN, LOGGER
from .issues import async_clear_mqtt_missing, async_raise_mqtt_missing
from .mqtt_input import MqttInputGuard
from .service_schemas import topic_error
from .transport import WhatwattTransport

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .api.models import MqttSettings, Report, Settings
    from .coordinator import WhatwattConfigEntry, WhatwattCoordinator

# The device's default publishing interval (services.report_interval), used until it is known.
DEFAULT_MQTT_INTERVAL: Final = 30.0
# REST takes over when this many publishing intervals passed without a message ...
FALLBACK_AFTER_INTERVALS: Final = 2
# ... and then polls the report at the publishing interval, but not faster than this.
MIN_FALLBACK_POLL: Final = 5.0


class WhatwattMqttTransport(WhatwattTransport):
    """Subscribe to the device's topic; fall back to REST polling while it is silent."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WhatwattConfigEntry,
        coordinator: WhatwattCoordinator,
    ) -> None:
        """Bind to the entry; nothing runs before ``async_prepare``/``async_start``."""
        super().__init__(hass, entry, coordinator)
        assert entry.unique_id is not None
        self.device_id = entry.unique_id
        self.topic: str = entry.data[CONF_TOPIC]
        self.interval = DEFAULT_MQTT_INTERVAL
        self.guard = MqttInputGuard(entry.title)
        self.fallback = False
        self._unsubscribe: CALLBACK_TYPE | None = None
        self._silence_timer: CALLBACK_TYPE | None = None
        self._poll_timer: CALLBACK_TYPE | None = None
        self._polling = False
        self._poll_failed = False

    # -- life cycle ------------------------------------------------------------------------

    async def async_prepare(self) -> None:
        """Before the entities exist: need MQTT, then read the state over REST (if known)."""
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            async_raise_mqtt_missing(self.hass, self.entry)
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="mqtt_not_available"
            )
        async_clear_mqtt_missing(self.hass, self.entry)
        coordinator = self.coordinator
        if coordinator.client is not None:
            # The first refresh also reads the settings: their report interval sets the timing.
            try:
                await coordinator.async_config_entry_first_refresh()
            except ConfigEntryNotReady as err:
                # MQTT may still flow (a changed address, a firewalled HTTP port): start without
                # REST; the fallback and the periodic device read fill in once it answers.
                failure = err.__cause__  # UpdateFailed, caused by the client's error
                if failure is not None and failure.__cause__ is not None:
                    failure = failure.__cause__
                coordinator.note_device_unreachable(failure or err)
            else:
                return
        coordinator.system = SystemInfo(device_id=self.device_id)
        coordinator.async_set_updated_data(coordinator.build_data(None, dt_util.utcnow()))

    async def async_start(self) -> None:
        """Subscribe to the topic (the fallback timer starts with it)."""
        await super().async_start()
        try:
            self._unsubscribe = await self._async_subscribe(self.topic)
        except HomeAssistantError as err:  # MQTT going down meanwhile: try again later
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="mqtt_not_available"
            ) from err
        self._arm_silence_timer()

    async def async_stop(self) -> None:
        """Unsubscribe and stop every timer."""
        await super().async_stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._cancel_silence_timer()
        self._stop_fallback()

    async def _async_subscribe(self, topic: str) -> CALLBACK_TYPE:
        return await mqtt.async_subscribe(
            self.hass, topic, self._async_message, qos=0, encoding=None
        )

    async def async_set_topic(self, topic: str) -> None:
        """Follow a new publish topic: the old subscription ends once the new one is in place."""
        if topic == self.topic and self._unsubscribe is not None:
            return
        new = await self._async_subscribe(topic)
        old, self._unsubscribe = self._unsubscribe, new
        self.topic = topic
        if self.entry.data.get(CONF_TOPIC) != topic:
            self.hass.config_entries.async_update_entry(
                self.entry, data={**self.entry.data, CONF_TOPIC: topic}
            )
        if old is not None:
            old()
        LOGGER.info("%s now listens on MQTT topic %s", self.entry.title, topic)

    # -- device writes ---------------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Return the topic, the publishing interval and whether REST stands in for MQTT."""
        return {
            "topic": self.topic,
            "interval": self.interval,
            "fallback_active": self.fallback,
            "fallback_poll_interval": self.poll_interval,
            "subscribed": self._unsubscribe is not None,
        }

    @callback
    def follow_settings(self, settings: Settings) -> None:
        """Follow a new publishing interval with the staleness timeout and the fallback."""
        if settings.report_interval and float(settings.report_interval) != self.interval:
            self.interval = float(settings.report_interval)
            self.coordinator.async_follow_push_interval(self.interval)
            if self._silence_timer is not None:
                self._arm_silence_timer()
            if self._poll_timer is not None:
                self._stop_fallback()
                self._start_fallback()

    async def async_settings_written(self, settings: Settings) -> None:
        """Follow a write of the settings (timing), and refresh over REST when possible."""
        self.follow_settings(settings)
        if self.coordinator.client is not None:
            await super().async_settings_written(settings)

    async def async_mqtt_settings_written(self, mqtt_settings: MqttSettings) -> None:
        """Follow a new topic; warn when the device stops publishing."""
        if mqtt_settings.enable is False:
            LOGGER.warning(
                "The MQTT client of %s is disabled now: this entry receives no MQTT data until "
                "it is enabled again",
                self.entry.title,
            )
        topic = mqtt_settings.topic
        if topic and topic != self.topic:
            if topic_error(topic) is None:
                await self.async_set_topic(topic)
            else:
                LOGGER.warning(
                    "%s publishes to %r, which cannot be subscribed to as one topic; this entry "
                    "keeps listening on %s",
                    self.entry.title,
                    topic,
                    self.topic,
                )
        if self.coordinator.client is not None:
            await super().async_mqtt_settings_written(mqtt_settings)

    # -- messages --------------------------------------------------------------------------

    @callback
    def _async_message(self, msg: mqtt.ReceiveMessage) -> None:
        """Read one message and push its reading."""
        report = self.guard.parse(msg.topic, msg.payload)
        if report is None:
            return
        if report.device_id is not None and report.device_id != self.device_id:
            LOGGER.debug(
                "Ignoring an MQTT message of device %s on %s (this entry is %s)",
                report.device_id,
                msg.topic,
                self.device_id,
            )
            return
        data = self.coordinator.data
        report = self.guard.accept(msg.topic, report, data.report if data else None)
        if self.fallback:
            LOGGER.info("MQTT messages from %s flow again", self.entry.title)
            self._stop_fallback()
        self._arm_silence_timer()
        self.coordinator.async_push_report(report, interval=self.interval)

    # -- REST fallback ---------------------------------------------------------------------

    @callback
    def _arm_silence_timer(self) -> None:
        self._cancel_silence_timer()
        if self.coordinator.client is None:
            return
        self._silence_timer = async_call_later(
            self.hass, FALLBACK_AFTER_INTERVALS * self.interval, self._async_silent
        )

    @callback
    def _cancel_silence_timer(self) -> None:
        if self._silence_timer is not None:
            self._silence_timer()
            self._silence_timer = None

    @callback
    def _async_silent(self, _now: datetime) -> None:
        """No message for a while: read the device over REST until messages flow again."""
        self._silence_timer = None
        LOGGER.info(
            "No MQTT message from %s on %s for %.0f s; reading it over REST meanwhile",
            self.entry.title,
            self.topic,
            FALLBACK_AFTER_INTERVALS * self.interval,
        )
        self._start_fallback()
        self.entry.async_create_background_task(
            self.hass, self._async_poll(), f"{DOMAIN} REST fallback"
        )

    @property
    def poll_interval(self) -> float:
        """Return the REST polling interval of the fallback (seconds)."""
        return max(self.interval, MIN_FALLBACK_POLL)

    @callback
    def _start_fallback(self) -> None:
        self.fallback = True
        self._poll_failed = False
        self._poll_timer = async_track_time_interval(
            self.hass,
            self._async_poll,
            timedelta(seconds=self.poll_interval),
            name=f"{DOMAIN} REST fallback",
            cancel_on_shutdown=True,
        )

    @callback
    def _stop_fallback(self) -> None:
        self.fallback = False
        if self._poll_timer is not None:
            self._poll_timer()
            self._poll_timer = None

    async def _async_poll(self, _now: datetime | None = None) -> None:
        """Read the report over REST once and push it (failures: logged once)."""
        client = self.coordinator.client
        if client is None or self._polling or not self.fallback:
            return
        self._polling = True
        try:
            report: Report = await client.get_report()
        except WhatwattAuthError:
            self._stop_fallback()
            self.entry.async_start_reauth(self.hass)
            return
        except WhatwattError as err:
            if not self._poll_failed:
                self._poll_failed = True
                LOGGER.info("%s does not answer over REST either: %s", self.entry.title, err)
            return
        finally:
            self._polling = False
        if self._poll_failed:
            self._poll_failed = False
            LOGGER.info("%s answers over REST again", self.entry.title)
        if self.fallback:
            self.coordinator.async_push_report(report, interval=self.poll_interval)
