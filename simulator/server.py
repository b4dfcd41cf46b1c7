"""``Simulator``: one simulated whatwatt Go on a real TCP port (start, stop, reboot, faults)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, Self

from aiohttp import web

from .actions import ActionEngine
from .app import build_app
from .auth import Authenticator
from .clock import has_utc_stamps, load_zone, now_utc
from .config import PROFILES, SimulatorConfig
from .faults import Faults
from .live import LiveHub
from .meter import MeterModel, live_event
from .state import DEFAULT_MQTT_TEMPLATE, DeviceState

if TYPE_CHECKING:
    from collections.abc import Callable

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
    everything it started. ``faults`` switches take effect at once.
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
            profile=cfg.profile,
            zone=load_zone(cfg.timezone),
            host_name=cfg.host_name,
            device_name=cfg.device_name,
            ethernet_up=cfg.ethernet_up,
        )
        self._apply_initial_config()
        if cfg.telegram_interval > 0:
            self.state.telegram_interval = cfg.telegram_interval
        scheme = cfg.auth if cfg.auth != "none" else None
        if scheme is None:
            scheme = "digest" if has_utc_stamps(cfg.firmware) else "basic"
        self.auth = Authenticator(scheme, cfg.nonce_lifetime, cfg.digest_qop)
        self.faults = Faults()
        self.faults.add_listener(self._fault_changed)
        self.live = LiveHub()
        self.actions = ActionEngine(cfg.action_fake_delay)
        self.meter = MeterModel(cfg.profile, rng=random.Random(cfg.seed))
        self.requests: list[RequestRecord] = []
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

    def _apply_initial_config(self) -> None:
        cfg = self.config
        state = self.state
        if cfg.password is not None:
            state.settings["system"]["password"] = cfg.password
            state.settings["system"]["protection"] = cfg.auth != "none"
        state.settings["services"]["report_interval"] = cfg.report_interval
        if cfg.mqtt_url is not None:
            mqtt = state.mqtt_settings
            mqtt["enable"] = True
            mqtt["url"] = cfg.mqtt_url
            mqtt["client_id"] = f"whatwatt-{state.device_id[-6:]}"
            mqtt["publish"]["topic"] = cfg.mqtt_topic or f"whatwatt/{state.device_id}"
            mqtt["publish"]["template"] = cfg.mqtt_template or DEFAULT_MQTT_TEMPLATE

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
        if self.faults.refuse:
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
        try:
            from .mqtt import MqttPublisher  # noqa: PLC0415 - optional part, may be absent
        except ImportError:
            return
        publisher: _Publisher = MqttPublisher(self.state)
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
        moment = now_utc()
        body = self.meter.next_report(
            state.telegram_interval, moment.astimezone(state.zone), state.zone
        )
        report = state.set_report(body, moment)
        await state.notify_telegram(report)
        return report

    def _to_live(self, report: dict[str, Any]) -> None:
        self.live.publish(live_event(report, self.state.uptime, self.state.local_now()))

    # -- faults, licence, maintenance --------------------------------------------------------

    def _fault_changed(self, name: str) -> None:
        if name == "refuse":
            if self.faults.refuse:
                self._close_listener()
                self._drop_connections()
            elif self._runner is not None and not self._stopping:
                self._spawn(self._listen(), "sim-reopen")
        elif name == "meter_not_connected":
            self.state.set_meter_connected(not self.faults.meter_not_connected)
        elif name == "malformed":
            self.live.malformed = self.faults.malformed

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
