"""The simulated device's MQTT publisher: a tiny MQTT 3.1.1 client on raw asyncio streams.

Behaviour follows docs/device-api.md §12.2 with the SIM choices made there: QoS 0, retain false,
keep-alive 60 s, clean session, no will, no subscriptions. The publisher connects while MQTT is
enabled and the licence is Plus, publishes the rendered template on a meter telegram when the meter
is OK and ``services.report_interval`` seconds have passed since the last message, reflects its link
in ``state.mqtt_link`` (shown as ``clouds.mqtc``), reconnects at once after ``settings_changed()``
and with a short backoff when the broker goes away.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import contextlib
from dataclasses import dataclass
import ipaddress
import logging
import ssl
import struct
import time
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from .template import render
from .variables import NUMERIC, build_variables

if TYPE_CHECKING:
    from .state import DeviceState

_LOGGER = logging.getLogger(__name__)

# Control packet types (upper nibble of the first byte).
CONNECT: Final = 0x10
CONNACK: Final = 0x20
PUBLISH: Final = 0x30
SUBSCRIBE: Final = 0x82  # with the mandatory flags 0b0010
SUBACK: Final = 0x90
PINGREQ: Final = 0xC0
PINGRESP: Final = 0xD0
DISCONNECT: Final = 0xE0

MAX_PACKET: Final = 256 * 1024
CONNECT_TIMEOUT: Final = 10.0


class MqttError(Exception):
    """The broker refused us or spoke something we do not understand."""


# --- codec --------------------------------------------------------------------------------------


def encode_length(length: int) -> bytes:
    """Encode an MQTT "remaining length" (variable byte integer)."""
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def encode_string(text: str | bytes) -> bytes:
    """Encode a length-prefixed UTF-8 string."""
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(raw)) + raw


def packet(first_byte: int, body: bytes = b"") -> bytes:
    """Frame one control packet."""
    return bytes((first_byte,)) + encode_length(len(body)) + body


def connect_packet(
    client_id: str, *, username: str | None, password: str | None, keepalive: int
) -> bytes:
    """Build CONNECT (MQTT 3.1.1, clean session)."""
    flags = 0x02
    payload = encode_string(client_id)
    if password and not username:
        username = ""
    if username is not None:
        flags |= 0x80
        payload += encode_string(username)
    if password:
        flags |= 0x40
        payload += encode_string(password)
    header = encode_string("MQTT") + bytes((4, flags)) + struct.pack("!H", keepalive)
    return packet(CONNECT, header + payload)


def publish_packet(topic: str, payload: bytes) -> bytes:
    """Build PUBLISH with QoS 0 and retain false."""
    return packet(PUBLISH, encode_string(topic) + payload)


async def read_packet(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one control packet: (first byte, body). Raises IncompleteReadError on EOF."""
    first = (await reader.readexactly(1))[0]
    length, shift = 0, 0
    for _ in range(4):
        byte = (await reader.readexactly(1))[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    else:
        raise MqttError("malformed remaining length")
    if length > MAX_PACKET:
        raise MqttError("packet too large")
    return first, await reader.readexactly(length)


def decode_publish(first: int, body: bytes) -> tuple[str, bytes]:
    """Split a PUBLISH body into (topic, payload), skipping the packet id for QoS > 0."""
    (topic_len,) = struct.unpack_from("!H", body)
    topic = body[2 : 2 + topic_len].decode()
    offset = 2 + topic_len + (2 if first & 0x06 else 0)
    return topic, body[offset:]


def _check_connack(first: int, body: bytes) -> None:
    """Raise MqttError unless this is a CONNACK accepting the connection."""
    if first & 0xF0 != CONNACK or len(body) != 2:
        raise MqttError(f"expected CONNACK, got 0x{first:02x}")
    if body[1] != 0:
        raise MqttError(f"broker refused the connection (return code {body[1]})")


# --- one broker session ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrokerTarget:
    """Where and how to connect, from the device's MQTT settings."""

    host: str
    port: int
    tls: bool
    client_id: str
    username: str | None
    password: str | None
    ca_certificate: str | None
    skip_cn_check: bool

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], device_id: str) -> BrokerTarget | None:
        """Read ``mqtt_settings``; None when the URL is missing or not mqtt:// / mqtts://."""
        url = settings.get("url")
        if not isinstance(url, str) or not url:
            return None
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            return None
        tls = parts.scheme == "mqtts"
        client_id = settings.get("client_id") or f"whatwatt-{device_id[-6:]}"
        broker = settings.get("broker")
        cert = broker.get("certificate") if isinstance(broker, Mapping) else None
        return cls(
            host=parts.hostname,
            port=port or (8883 if tls else 1883),
            tls=tls,
            client_id=str(client_id),
            username=settings.get("username") or None,
            password=settings.get("password") or None,
            ca_certificate=cert if isinstance(cert, str) and cert else None,
            skip_cn_check=bool(settings.get("skip_cn_check")),
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        """Return the TLS context for mqtts (broker.certificate as CA), else None."""
        if not self.tls:
            return None
        context = ssl.create_default_context(cadata=self.ca_certificate)
        if self.skip_cn_check:
            context.check_hostname = False
        return context


def is_loopback(host: str) -> bool:
    """Return True for ``localhost`` and loopback IP literals (no name resolution)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class MqttConnection:
    """One open MQTT session (publish-only)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Wrap connected streams; use ``open()``."""
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(
        cls, target: BrokerTarget, *, keepalive: int, reachable: frozenset[str] = frozenset()
    ) -> MqttConnection:
        """Connect, send CONNECT and wait for a successful CONNACK.

        The simulated device's network is this machine's loopback and the ``reachable`` hosts:
        a broker anywhere else is unreachable (no socket is opened and no name is looked up),
        like a real device whose configured broker does not answer.
        """
        if not is_loopback(target.host) and target.host not in reachable:
            raise OSError(f"broker {target.host} is unreachable from the simulated device")
        context = target.ssl_context()
        reader, writer = await asyncio.open_connection(
            target.host,
            target.port,
            ssl=context,
            server_hostname=target.host if context else None,
        )
        conn = cls(reader, writer)
        try:
            writer.write(
                connect_packet(
                    target.client_id,
                    username=target.username,
                    password=target.password,
                    keepalive=keepalive,
                )
            )
            await writer.drain()
            _check_connack(*await read_packet(reader))
        except BaseException:
            conn.abort()
            raise
        return conn

    async def publish(self, topic: str, payload: bytes) -> None:
        """Send one QoS 0 message."""
        self._writer.write(publish_packet(topic, payload))
        await self._writer.drain()

    async def ping(self) -> None:
        """Send PINGREQ."""
        self._writer.write(packet(PINGREQ))
        await self._writer.drain()

    async def read_until_closed(self) -> None:
        """Consume broker packets (PINGRESP) until the broker closes the connection."""
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, MqttError):
            while True:
                await read_packet(self._reader)

    async def close(self) -> None:
        """Send DISCONNECT (best effort) and close."""
        with contextlib.suppress(OSError, RuntimeError):
            self._writer.write(packet(DISCONNECT))
            await asyncio.wait_for(self._writer.drain(), 1.0)
        self.abort()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(self._writer.wait_closed(), 1.0)

    def abort(self) -> None:
        """Close the transport without a goodbye."""
        self._writer.close()


# --- the publisher ------------------------------------------------------------------------------


class MqttPublisher:
    """Publishes the rendered template to the configured broker, like the device does."""

    def __init__(
        self,
        state: DeviceState,
        *,
        keepalive: int = 60,
        backoff: float = 0.25,
        max_backoff: float = 3.0,
        report_hook: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        payload_hook: Callable[[bytes], bytes] | None = None,
    ) -> None:
        """Prepare (nothing runs until ``start()``).

        ``report_hook`` sees the report a message is about to be rendered from, right before
        it is published, and returns the report to render (the simulator's energy glitch and
        hostile values); ``payload_hook`` sees the rendered message and returns the one to send.
        """
        self._state = state
        self._report_hook = report_hook
        self._payload_hook = payload_hook
        self._keepalive = keepalive
        self._backoff_initial = backoff
        self._max_backoff = max_backoff
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._conn: MqttConnection | None = None
        self._active: tuple[bool, bool] = (False, False)
        self._last_publish: float | None = None
        self._link_changed = asyncio.Condition()
        self.published = 0
        self.connects = 0
        self.failures = 0
        self.last_payload: bytes | None = None
        self.last_error: str | None = None

    # public API -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the connection loop and listen for telegrams."""
        if self._task is not None:
            return
        self._unsubscribe = self._state.add_telegram_listener(self._on_telegram)
        self._task = asyncio.create_task(self._run(), name="whatwatt-sim-mqtt")

    async def stop(self) -> None:
        """Disconnect and stop every task."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._set_link(self._enabled(), connected=False)

    def settings_changed(self) -> None:
        """Reconnect at once with the current MQTT settings (after a config write)."""
        self._changed.set()

    @property
    def connected(self) -> bool:
        """Return True while a broker session is up."""
        return self._conn is not None

    async def wait_link(
        self, *, connected: bool, min_connects: int = 0, limit: float = 10.0
    ) -> None:
        """Wait at most ``limit`` s until the link is up (or down) after ``min_connects`` sessions.

        Raises TimeoutError when that does not happen in time.
        """
        await self.wait_for(
            lambda: self.connected is connected and self.connects >= min_connects, limit=limit
        )

    async def wait_for(self, predicate: Callable[[], bool], *, limit: float = 10.0) -> None:
        """Wait at most ``limit`` s until ``predicate()`` holds, re-checked on every link event."""
        async with asyncio.timeout(limit), self._link_changed:
            await self._link_changed.wait_for(predicate)

    # internals --------------------------------------------------------------------------------

    def _enabled(self) -> bool:
        return self._state.mqtt_settings.get("enable") is True

    def _licensed(self) -> bool:
        return str(self._state.license).upper() != "FREE"

    async def _set_link(self, enabled: bool, *, connected: bool) -> None:
        self._state.mqtt_link = {"enabled": enabled, "connected": connected}
        async with self._link_changed:
            self._link_changed.notify_all()

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds`` or until the settings change, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)

    async def _run(self) -> None:
        backoff = self._backoff_initial
        while True:
            self._changed.clear()
            enabled, licensed = self._enabled(), self._licensed()
            self._active = (enabled, licensed)
            target = BrokerTarget.from_settings(self._state.mqtt_settings, self._state.device_id)
            await self._set_link(enabled, connected=False)
            if not (enabled and licensed and target):
                await self._changed.wait()
                continue
            try:
                conn = await asyncio.wait_for(
                    MqttConnection.open(
                        target, keepalive=self._keepalive, reachable=self._state.reachable_hosts
                    ),
                    CONNECT_TIMEOUT,
                )
            except (OSError, MqttError, TimeoutError, asyncio.IncompleteReadError) as err:
                self.last_error = str(err) or type(err).__name__
                self.failures += 1
                _LOGGER.debug("MQTT connect to %s:%s failed: %s", target.host, target.port, err)
                await self._set_link(enabled, connected=False)
                await self._pause(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = self._backoff_initial
            self.connects += 1
            self._conn = conn
            try:
                await self._set_link(enabled, connected=True)
                changed = await self._serve(conn)
            finally:
                self._conn = None
                await conn.close()
            if not changed:
                await self._set_link(enabled, connected=False)
                await self._pause(backoff)

    async def _serve(self, conn: MqttConnection) -> bool:
        """Keep the session alive; return True on a settings change, False when it dropped."""
        reader = asyncio.create_task(conn.read_until_closed())
        pinger = asyncio.create_task(self._ping_loop(conn))
        waiter = asyncio.create_task(self._changed.wait())
        try:
            await asyncio.wait({reader, pinger, waiter}, return_when=asyncio.FIRST_COMPLETED)
            return waiter.done()
        finally:
            for task in (reader, pinger, waiter):
                task.cancel()
            await asyncio.gather(reader, pinger, waiter, return_exceptions=True)

    async def _ping_loop(self, conn: MqttConnection) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            while True:
                await asyncio.sleep(self._keepalive / 2)
                await conn.ping()

    async def _on_telegram(self, _report: dict[str, Any]) -> None:
        """Publish on a fresh telegram when due."""
        if (self._enabled(), self._licensed()) != self._active:
            self._changed.set()  # a licence or enable change we were not told about
            return
        conn = self._conn
        if conn is None or not self._licensed() or not self._enabled():
            return
        if self._state.meter_status != "OK" or self._state.report is None:
            return
        publish = self._state.mqtt_settings.get("publish")
        publish = publish if isinstance(publish, Mapping) else {}
        topic, template = publish.get("topic"), publish.get("template")
        if not isinstance(topic, str) or not topic or not isinstance(template, str) or not template:
            return
        interval = self._report_interval()
        now = time.monotonic()
        if self._last_publish is not None and now - self._last_publish < interval:
            return
        report = self._state.report
        if self._report_hook is not None:
            report = self._report_hook(report)
        payload = render(template, build_variables(self._state, report), NUMERIC).encode()
        if self._payload_hook is not None:
            payload = self._payload_hook(payload)
        try:
            await asyncio.wait_for(conn.publish(topic, payload), 5.0)
        except (OSError, TimeoutError, RuntimeError) as err:
            self.last_error = str(err) or type(err).__name__
            return
        self._last_publish = now
        self.published += 1
        self.last_payload = payload

    def _report_interval(self) -> float:
        services = self._state.settings.get("services")
        value = services.get("report_interval") if isinstance(services, Mapping) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return 30.0
