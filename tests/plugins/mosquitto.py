"""A private mosquitto broker on 127.0.0.1 for tests, plus a tiny raw-asyncio MQTT subscriber.

Fixture ``mosquitto``: skips (with the reason) when the ``mosquitto`` binary is not installed,
otherwise starts ``mosquitto -c <config>`` on a free loopback port and yields a ``Mosquitto`` with
``host``/``port``/``url``, ``restart()``/``stop()``/``start()`` and ``subscribe(topic)``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import ipaddress
import os
import pwd
import shutil
import socket
import struct
import subprocess
import time
from typing import TYPE_CHECKING

import pytest

from simulator.mqtt import (
    CONNACK,
    PINGREQ,
    PUBLISH,
    SUBACK,
    SUBSCRIBE,
    connect_packet,
    decode_publish,
    encode_string,
    packet,
    read_packet,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT = 10.0


def find_mosquitto() -> str | None:
    """Return the mosquitto binary from PATH or /usr/sbin, or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    """Return a currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    """Return True when something accepts connections on the port (127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


def make_test_certificates() -> tuple[str, str, str]:
    """Return (CA cert, server cert for 127.0.0.1, server key) as PEM text, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "whatwatt test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return ca_cert.public_bytes(pem).decode(), cert.public_bytes(pem).decode(), key_pem


@dataclass
class Message:
    """One received MQTT message."""

    topic: str
    payload: bytes


@dataclass
class Subscriber:
    """A raw-asyncio MQTT 3.1.1 subscriber (QoS 0) for assertions."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    messages: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None

    async def _read_loop(self) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                first, body = await read_packet(self.reader)
                if first & 0xF0 == PUBLISH:
                    topic, payload = decode_publish(first, body)
                    await self.messages.put(Message(topic, payload))

    async def next(self, timeout: float = 10.0) -> Message:
        """Return the next message (bounded wait; TimeoutError when none comes)."""
        async with asyncio.timeout(timeout):
            return await self.messages.get()

    async def expect_none(self, within: float) -> None:
        """Assert that no message arrives within ``within`` seconds."""
        try:
            message = await self.next(within)
        except TimeoutError:
            return
        pytest.fail(f"unexpected MQTT message on {message.topic}: {message.payload[:200]!r}")

    async def ping(self) -> None:
        """Send PINGREQ (keeps the session obviously alive)."""
        self.writer.write(packet(PINGREQ))
        await self.writer.drain()

    async def close(self) -> None:
        """Disconnect and stop reading."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


class Mosquitto:
    """A running private broker."""

    def __init__(self, binary: str, workdir: Path) -> None:
        """Prepare config and port (``start()`` runs it)."""
        self.binary = binary
        self.host = HOST
        self.port = free_port()
        self.url = f"mqtt://{HOST}:{self.port}"
        self.config = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        self.workdir = workdir
        self.allow_anonymous = True
        self.tls_port: int | None = None
        self.tls_url: str | None = None
        self._write_config()
        self._process: subprocess.Popen[bytes] | None = None
        self._subscribers: list[Subscriber] = []

    def _write_config(self) -> None:
        anonymous = "true" if self.allow_anonymous else "false"
        # run as the invoking user: as root mosquitto would switch to its own account, which
        # cannot read the test's private temporary folder (TLS files)
        user = pwd.getpwuid(os.geteuid()).pw_name
        lines = [f"user {user}\nallow_anonymous {anonymous}\npersistence false"]
        lines.append(f"listener {self.port} {HOST}")
        if self.tls_port is not None:
            lines.append(f"listener {self.tls_port} {HOST}")
            lines.append(f"cafile {self.workdir / 'ca.pem'}")
            lines.append(f"certfile {self.workdir / 'server.pem'}")
            lines.append(f"keyfile {self.workdir / 'server.key'}")
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def enable_tls(self) -> str:
        """Add a TLS listener (self-made CA, server cert for 127.0.0.1); return the CA PEM.

        ``tls_url`` is ``mqtts://127.0.0.1:<port>``; takes effect at the next ``restart()``.
        """
        ca_pem, cert_pem, key_pem = make_test_certificates()
        (self.workdir / "ca.pem").write_text(ca_pem, encoding="utf-8")
        (self.workdir / "server.pem").write_text(cert_pem, encoding="utf-8")
        (self.workdir / "server.key").write_text(key_pem, encoding="utf-8")
        self.tls_port = free_port()
        self.tls_url = f"mqtts://{HOST}:{self.tls_port}"
        self._write_config()
        return ca_pem

    def set_allow_anonymous(self, allow: bool) -> None:
        """Rewrite the config (takes effect at the next ``start``/``restart``).

        Without anonymous access and without a password file the broker refuses every client
        with CONNACK return code 5 (not authorised).
        """
        self.allow_anonymous = allow
        self._write_config()

    def start(self) -> None:
        """Start the broker and wait (bounded) until its port accepts connections."""
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [self.binary, "-c", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not port_open(self.port):
            if self._process.poll() is not None:
                pytest.fail(f"mosquitto exited: {self.log.read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("mosquitto did not open its port in time")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the broker (terminate, then kill if it lingers)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def restart(self) -> None:
        """Stop and start again on the same port (clients see the broker go away)."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        """Return True while the broker process runs."""
        return self._process is not None and self._process.poll() is None

    async def subscribe(self, topic: str, *, client_id: str = "test-subscriber") -> Subscriber:
        """Connect a subscriber to ``topic`` (QoS 0) and wait for the SUBACK."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(connect_packet(client_id, username=None, password=None, keepalive=60))
        await writer.drain()
        async with asyncio.timeout(5):
            first, body = await read_packet(reader)
            assert first & 0xF0 == CONNACK
            assert body[1] == 0, f"CONNACK return code {body[1]}"
            writer.write(packet(SUBSCRIBE, struct.pack("!H", 1) + encode_string(topic) + b"\0"))
            await writer.drain()
            first, body = await read_packet(reader)
            assert first & 0xF0 == SUBACK
            assert body[2] == 0, f"SUBACK return code {body[2]}"
        subscriber = Subscriber(reader, writer)
        subscriber.task = asyncio.create_task(subscriber._read_loop())
        self._subscribers.append(subscriber)
        return subscriber

    async def close_subscribers(self) -> None:
        """Close every subscriber made by ``subscribe``."""
        for subscriber in self._subscribers:
            await subscriber.close()
        self._subscribers.clear()


@pytest.fixture
def mosquitto_binary() -> str:
    """Return the mosquitto binary or skip the test."""
    binary = find_mosquitto()
    if binary is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    return binary


@pytest.fixture
async def mosquitto(
    mosquitto_binary: str, tmp_path: Path, socket_enabled: None
) -> AsyncIterator[Mosquitto]:
    """Run a private mosquitto on a free port of 127.0.0.1 for one test.

    Subscribers made with ``mosquitto.subscribe()`` are closed at teardown, then the broker stops.
    """
    broker = Mosquitto(mosquitto_binary, tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        await broker.close_subscribers()
        broker.stop()
