"""``Simulator``: one simulated whatwatt Go on a real TCP port (start, stop, reboot, faults).

Faults (``sim.faults``, ``POST /_sim/faults``) are described in ``simulator.faults``; the energy
glitch in ``simulator.glitch``. ``configure_mqtt()`` (``POST /_sim/mqtt``) points the device's
MQTT client at a broker as if someone had used the device's web page: topic
``whatwatt/<DEVICE_ID>`` and the vendor's template unless told otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, Self

from aiohttp import web

from .actions import ActionEngine
from .app import build_app
from .auth import Authenticator
from .clock import has_utc_stamps, load_zone, local_from_stamp, parse_zone
from .config import PROFILES, SimulatorConfig
from .faults import Faults
from .hostile import LONG_ROW_BYTES
from .live import LiveHub
from .meter import MeterModel, live_event
from .sdcard import SdCard
from .state import DEFAULT_MQTT_TEMPLATE, DeviceState
from .submeters import base_profile, profile_submeters

if TYPE_CHECKING:
    from collections.abc import Callable

    from .glitch import GlitchPath

_LOGGER = logging.getLogger(__name__)


class RequestRecord(NamedTuple):
    """One API request the device served (control requests are not counted)."""

    method: str
    path: str
    status: int


class _Publisher(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def settings_changed(self) -> None: ...


class Simulator:
    """A simulated whatwatt Go serving HTTP on ``config.host``/``config.port``.

    ``await start()``; ``url``/``port`` then tell where it listens. ``await stop()`` ends
    everything it started. ``faults`` switches take effect at once. ``hostile_bytes_sent``
    counts the bytes of ``huge_body`` answers (the ``hostile`` fault) the clients took.
    """

    def __init__(self, config: SimulatorConfig | None = None, **kwargs: Any) -> None:
        """Create (not start) a device from ``config`` or from ``SimulatorConfig(**kwargs)``."""
        self.config = config if config is not None else SimulatorConfig(**kwargs)
        cfg = self.config
        if cfg.profile not in PROFILES:
            raise ValueError(f"unknown profile {cfg.profile!r}")
        if cfg.auth not in ("none", "basic", "digest"):
            raise ValueError(f"unknown auth mode {cfg.auth!r}")
        self.state = DeviceState(
            device_id=cfg.device_id,
            firmware=cfg.firmware,
            license_tier=cfg.license,
            profile=base_profile(cfg.profile),
            zone=load_zone(cfg.timezone),
            host_name=cfg.host_name,
            device_name=cfg.device_name,
            ethernet_up=cfg.ethernet_up,
        )
        if cfg.telegram_interval > 0:
            self.state.telegram_interval = cfg.telegram_interval
        self.state.reachable_hosts = frozenset(cfg.reachable_hosts)
        self.state.meter_info["id"] = cfg.meter_id
        scheme = cfg.auth if cfg.auth != "none" else None
        if scheme is None:
            scheme = "digest" if has_utc_stamps(cfg.firmware) else "basic"
        self.auth = Authenticator(scheme, cfg.nonce_lifetime, cfg.digest_qop)
        self._zone = self.state.zone  # the configured zone (``timezone`` fault None)
        self.faults = Faults()
        self.faults.add_listener(self._fault_changed)
        self.faults.clock_offset = cfg.clock_offset
        self.live = LiveHub()
        self.actions = ActionEngine(cfg.action_fake_delay)
        self.meter = MeterModel(
            base_profile(cfg.profile),
            rng=random.Random(cfg.seed),
            submeters=profile_submeters(cfg.profile),
        )
        self.sdcard = SdCard(self.state, mounted=cfg.sd_card)  # logs every report it is due
        self.state.add_telegram_listener(self.sdcard.on_report)
        self.requests: list[RequestRecord] = []
        self.hostile_bytes_sent = self._hostile_readings = 0
        self.boots = 0
        self.up = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None
        self._port = cfg.port
        self._telegram_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._publisher: _Publisher | None = None
        self._unsub_live: Callable[[], None] | None = None
        self._stopping = False
        self._apply_initial_config()

    def _apply_initial_config(self) -> None:
        cfg = self.config
        state = self.state
        if cfg.password is not None:
            state.settings["system"]["password"] = cfg.password
            state.settings["system"]["protection"] = cfg.auth != "none"
        state.settings["services"]["report_interval"] = cfg.report_interval
        if cfg.mqtt_url is not None:
            self.configure_mqtt(cfg.mqtt_url, topic=cfg.mqtt_topic, template=cfg.mqtt_template)

    def configure_mqtt(
        self,
        url: str,
        *,
        topic: str | None = None,
        template: str | None = None,
        enable: bool = True,
    ) -> dict[str, Any]:
        """Point the MQTT client at ``url`` (outside the REST API); return the public settings.

        ``topic`` None (or empty) is the default ``whatwatt/<DEVICE_ID>`` (upper-case id, as
        ``sys.id``); ``template`` None (or empty) is the vendor's flat-key template
        (``state.DEFAULT_MQTT_TEMPLATE``). A running publisher reconnects at once.
        """
        state = self.state
        mqtt = state.mqtt_settings
        mqtt["enable"] = enable
        mqtt["url"] = url
        if not mqtt.get("client_id"):
            mqtt["client_id"] = f"whatwatt-{state.device_id[-6:]}"
        mqtt["publish"]["topic"] = topic or state.default_mqtt_topic
        mqtt["publish"]["template"] = template or DEFAULT_MQTT_TEMPLATE
        self.mqtt_settings_written()
        return state.public_mqtt_settings()

    # -- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """Return the TCP port (the real one once started with port 0)."""
        return self._port

    @property
    def url(self) -> str:
        """Return ``http://host:port``."""
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._port}"

    @property
    def host(self) -> str:
        """Return ``host:port`` as a user would type it."""
        return self.url.removeprefix("http://")

    # -- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Boot the device and listen."""
        self._stopping = False
        self._runner = web.AppRunner(
            build_app(self), handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        self._unsub_live = self.state.add_telegram_listener(self._to_live)
        await self._boot()
        await self._listen()

    async def stop(self) -> None:
        """Stop listening, end every stream, task and session this device started."""
        self._stopping = True
        self._close_listener()
        self._drop_connections()
        await self._halt_services()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._unsub_live is not None:
            self._unsub_live()
            self._unsub_live = None
        await self.actions.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        """Start on entering ``async with``."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop on leaving ``async with``."""
        await self.stop()

    async def _listen(self) -> None:
        if self._server is not None or self._runner is None or self._stopping:
            return
        if self.faults.refuse or self.faults.offline:
            return
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        self._server = await loop.create_server(
            server, self.config.host, self._port, reuse_address=True
        )
        self._port = self._server.sockets[0].getsockname()[1]
        self.up.set()

    def _close_listener(self) -> None:
        self.up.clear()
        if self._server is not None:
            self._server.close()
            self._server = None

    def _drop_connections(self) -> None:
        self.live.drop()
        server = self._runner.server if self._runner is not None else None
        if server is not None:
            for conn in list(server.connections):
                conn.force_close()

    async def wait_up(self, limit: float = 10.0) -> None:
        """Wait until the device listens again (after a reboot or a refuse fault)."""
        async with asyncio.timeout(limit):
            await self.up.wait()

    async def _boot(self) -> None:
        self.boots += 1
        self.state.set_meter_connected(not self.faults.meter_not_connected)
        self.state.boot()
        self.auth.reset()
        self.actions.reset()
        self._telegram_task = self._spawn(self._telegram_loop(), "sim-telegrams")
        await self._start_publisher()

    async def _halt_services(self) -> None:
        if self._telegram_task is not None:
            self._telegram_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._telegram_task
            self._telegram_task = None
        if self._publisher is not None:
            try:
                await self._publisher.stop()
            except Exception:
                _LOGGER.exception("MQTT publisher failed to stop")
            self._publisher = None

    async def _start_publisher(self) -> None:
        if self.faults.offline:
            return  # connects when the device is back on the network
        try:
            from .mqtt import MqttPublisher  # noqa: PLC0415 - optional part, may be absent
        except ImportError:
            return
        publisher: _Publisher = MqttPublisher(
            self.state,
            report_hook=lambda report: self.hostile_report(self.glitched("mqtt", report)),
            payload_hook=self.hostile_payload,
        )
        self._publisher = publisher
        await publisher.start()

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- meter ---------------------------------------------------------------------------

    async def _telegram_loop(self) -> None:
        interval = self.config.telegram_interval
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            await self.emit_telegram()

    async def emit_telegram(self) -> dict[str, Any] | None:
        """Decode the next meter telegram now; return its report JSON (None: meter down)."""
        state = self.state
        if not state.meter_connected:
            return None
        moment = state.device_now()
        body = self.meter.next_report(
            state.telegram_interval, moment.astimezone(state.zone), state.zone
        )
        report = state.set_report(body, moment)
        await state.notify_telegram(report)
        return report

    def exchange_meter(
        self, meter_id: str | None = None, *, serial: str | None = None, start: float = 0.0
    ) -> None:
        """Exchange the meter: registers from zero (``MeterModel.exchange``) from the next telegram.

        ``meter_id`` becomes its ``meter.id`` and (unless ``serial`` is given) its serial
        (``logical_name``, the system's ``type``, the card's ``MIDENT``); None for both keeps the
        identity, as a meter without any would.
        """
        self.meter.exchange(start)
        info = self.state.meter_info
        if meter_id is not None:
            info["id"] = meter_id
        if serial is not None or meter_id is not None:
            info["logical_name"] = serial if serial is not None else meter_id or ""

    def _to_live(self, report: dict[str, Any]) -> None:
        if not self.live.has_subscriber:
            return
        report = self.hostile_report(self.glitched("live", report))
        state = self.state
        stamp = report.get("report", {}).get("date_time")
        local = local_from_stamp(stamp, state.zone) or state.local_now()
        event = live_event(report, state.uptime, local)
        hostile = self.faults.hostile
        if hostile is not None:
            event = hostile.live_event(event, self._hostile_readings)
            data = json.dumps(event, separators=(",", ":"))
            if (frame := hostile.live_frame(data, self.live.newline)) is not None:
                self.live.publish_raw(frame)
                return
        self.live.publish(event)

    def glitched(self, path: GlitchPath, report: dict[str, Any]) -> dict[str, Any]:
        """Return ``report`` as ``path`` delivers it now: with the energy glitch if pending."""
        glitch = self.faults.take_glitch(path)
        return glitch.apply(report) if glitch is not None else report

    def hostile_report(self, report: dict[str, Any]) -> dict[str, Any]:
        """Return a full report JSON as it goes out now: hostile when that fault is on."""
        hostile = self.faults.hostile
        if hostile is None:
            return report
        self._hostile_readings += 1
        return hostile.report(report, self._hostile_readings)

    def hostile_payload(self, payload: bytes) -> bytes:
        """Return an MQTT message as it goes out now (``hostile``'s nested JSON)."""
        hostile = self.faults.hostile
        return hostile.mqtt_payload(payload) if hostile is not None else payload

    def count_hostile_bytes(self, count: int) -> None:
        """Count bytes of a ``huge_body`` answer the client took."""
        self.hostile_bytes_sent += count

    def mqtt_message(self, template: str | None = None) -> bytes:
        """Return the MQTT message the device would publish now, as its publisher renders it.

        ``template`` None is the configured one. A pending energy glitch on the ``mqtt`` path is
        taken, the ``hostile`` fault applies: for tests that fire messages on a mocked client.
        """
        from .template import render  # noqa: PLC0415 - the MQTT part is optional
        from .variables import NUMERIC, build_variables  # noqa: PLC0415

        state = self.state
        text = template or str(state.mqtt_settings["publish"]["template"] or "")
        report = self.hostile_report(self.glitched("mqtt", state.report or {}))
        payload = render(text, build_variables(state, report), NUMERIC).encode()
        return self.hostile_payload(payload)

    # -- faults, licence, maintenance --------------------------------------------------------

    def _fault_changed(self, name: str) -> None:
        if name in ("refuse", "offline"):
            self._network_changed(name)
        elif name == "meter_not_connected":
            self.state.set_meter_connected(not self.faults.meter_not_connected)
        elif name == "malformed":
            self.live.malformed = self.faults.malformed
        elif name == "clock_offset":
            self.state.clock_offset = self.faults.clock_offset
        elif name == "timezone":
            zone = self.faults.timezone
            self.state.zone = parse_zone(zone) if zone is not None else self._zone
        elif name == "old_time_stamps":
            self.state.old_time_stamps = self.faults.old_time_stamps
        elif name == "hostile":
            hostile = self.faults.hostile
            long_rows = hostile is not None and hostile.has("long_sd_rows")
            self.sdcard.row_length = LONG_ROW_BYTES if long_rows else 0

    def _network_changed(self, name: str) -> None:
        """Close or reopen the listener (refused or offline); offline takes MQTT down too."""
        if self.faults.refuse or self.faults.offline:
            self._close_listener()
            self._drop_connections()
        elif self._runner is not None and not self._stopping:
            self._spawn(self._listen(), "sim-reopen")
        if name == "offline":
            self._spawn(self._follow_network(), "sim-network")

    async def _follow_network(self) -> None:
        """Disconnect the MQTT client while offline; connect it again when back (booted)."""
        if self.faults.offline:
            if self._publisher is not None:
                publisher, self._publisher = self._publisher, None
                await publisher.stop()
        elif self._publisher is None and self._telegram_task is not None and not self._stopping:
            await self._start_publisher()

    async def settle(self) -> None:
        """Wait until what a fault switch started (listening again, the MQTT client) is done."""
        pending = [t for t in self._tasks if t.get_name() in ("sim-reopen", "sim-network")]
        await asyncio.gather(*pending, return_exceptions=True)

    def refuse_for(self, seconds: float) -> None:
        """Refuse connections for ``seconds``, then listen again."""
        self.faults.refuse = True

        async def later() -> None:
            await asyncio.sleep(seconds)
            self.faults.refuse = False

        self._spawn(later(), "sim-refuse-for")

    def set_license(self, tier: str) -> None:
        """Switch the licence tier (``free``/``plus``/``pro``) at once."""
        self.state.license = tier.upper()
        if self._publisher is not None:
            self._publisher.settings_changed()

    @property
    def publisher(self) -> Any:
        """Return the running MQTT publisher (``simulator.mqtt.MqttPublisher``) or None."""
        return self._publisher

    def record(self, method: str, path: str, status: int) -> None:
        """Count one served API request."""
        self.requests.append(RequestRecord(method, path, status))

    def settings_written(self) -> None:
        """React to a settings write (report interval, protection take effect at once)."""

    def mqtt_settings_written(self) -> None:
        """Tell the MQTT publisher to reconnect with the new configuration."""
        if self._publisher is not None:
            self._publisher.settings_changed()

    def schedule_reboot(self, *, restore: bool = False) -> None:
        """Reboot (or factory-reset) in the background, as after ``POST /api/v1/reboot``."""
        self._spawn(self.reboot(restore=restore), "sim-reboot")

    async def reboot(self, *, restore: bool = False, downtime: float | None = None) -> None:
        """Go offline (connection refused) for ``downtime`` s, then boot again on the same port."""
        self._close_listener()
        self._drop_connections()
        await self._halt_services()
        if restore:
            self.state.restore_defaults()
        await asyncio.sleep(self.config.reboot_downtime if downtime is None else downtime)
        if self._stopping:
            return
        await self._boot()
        await self._listen()

    async def restore(self) -> None:
        """Reset to factory settings, then reboot (``POST /api/v1/restore``)."""
        await self.reboot(restore=True)
