"""HTTP authentication of the device: Digest (MD5-sess, empty user) and Basic (old firmware)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
import hashlib
import hmac
import re
import secrets
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def md5_hex(data: str | bytes) -> str:
    """Return the hex MD5 of ``data`` (UTF-8 for text)."""
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.md5(raw, usedforsecurity=False).hexdigest()


def parse_digest_params(header: str) -> dict[str, str]:
    """Return the ``key=value`` pairs of a ``Digest ...`` header (quotes removed)."""
    return {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _PARAM.finditer(header)
    }


@dataclass(frozen=True, slots=True)
class AuthResult:
    """Outcome of checking one request: ``ok``; ``stale`` when only the nonce was too old."""

    ok: bool
    stale: bool = False


class Authenticator:
    """Verifies credentials and builds challenges for one device boot.

    ``scheme`` is ``"digest"`` or ``"basic"``. Nonces live ``nonce_lifetime`` seconds; the
    highest ``nc`` per (nonce, cnonce) is kept and anything not above it is a replay.
    """

    def __init__(self, scheme: str, nonce_lifetime: float, qop: str = "auth") -> None:
        """Start with no issued nonces and a fresh opaque value."""
        self.scheme = scheme
        self.nonce_lifetime = nonce_lifetime
        self.qop = qop
        self.opaque = secrets.token_hex(16)
        self._nonces: dict[str, float] = {}
        self._nc_seen: dict[tuple[str, str], int] = {}
        self.clock: Callable[[], float] = time.monotonic  # replaceable in tests

    def reset(self) -> None:
        """Forget every nonce (a reboot); the opaque value stays."""
        self._nonces.clear()
        self._nc_seen.clear()

    def challenge(self, realm: str, *, stale: bool = False) -> str:
        """Return a ``WWW-Authenticate`` value; Digest issues a new nonce."""
        if self.scheme == "basic":
            return f'Basic realm="{realm}"'
        now = self.clock()
        self._prune(now)
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = now
        value = (
            f'Digest realm="{realm}", qop="{self.qop}", algorithm=MD5-sess, '
            f'nonce="{nonce}", opaque="{self.opaque}"'
        )
        if stale:
            value += ", stale=true"
        return value

    def _prune(self, now: float) -> None:
        limit = now - 2 * self.nonce_lifetime
        for nonce in [n for n, t in self._nonces.items() if t < limit]:
            del self._nonces[nonce]
            for key in [k for k in self._nc_seen if k[0] == nonce]:
                del self._nc_seen[key]

    def check(
        self, header: str | None, *, method: str, uri: str, body: bytes, realm: str, password: str
    ) -> AuthResult:
        """Check an ``Authorization`` header against the current password."""
        if not header:
            return AuthResult(ok=False)
        if self.scheme == "basic":
            return AuthResult(ok=self._check_basic(header, password))
        return self._check_digest(header, method, uri, body, realm, password)

    @staticmethod
    def _check_basic(header: str, password: str) -> bool:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(decoded, ":" + password)

    def _check_digest(
        self, header: str, method: str, uri: str, body: bytes, realm: str, password: str
    ) -> AuthResult:
        scheme, _, rest = header.partition(" ")
        if scheme.lower() != "digest":
            return AuthResult(ok=False)
        p = parse_digest_params(rest)
        nonce, cnonce, nc, qop = (
            p.get("nonce", ""),
            p.get("cnonce", ""),
            p.get("nc", ""),
            p.get("qop"),
        )
        if (
            p.get("username", None) != ""
            or p.get("realm") != realm
            or p.get("uri") != uri
            or p.get("algorithm", "MD5-sess").lower() != "md5-sess"
            or qop not in ("auth", "auth-int")
            or not cnonce
            or not re.fullmatch(r"[0-9a-fA-F]{8}", nc)
            or p.get("opaque") != self.opaque
        ):
            return AuthResult(ok=False)
        ha1 = md5_hex(f"{md5_hex(f':{realm}:{password}')}:{nonce}:{cnonce}")
        ha2 = md5_hex(f"{method}:{uri}" + (f":{md5_hex(body)}" if qop == "auth-int" else ""))
        expected = md5_hex(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        if not hmac.compare_digest(expected, p.get("response", "").lower()):
            return AuthResult(ok=False)
        issued = self._nonces.get(nonce)
        if issued is None or self.clock() - issued > self.nonce_lifetime:
            return AuthResult(ok=False, stale=True)
        count = int(nc, 16)
        key = (nonce, cnonce)
        if count <= self._nc_seen.get(key, 0):
            return AuthResult(ok=False)
        self._nc_seen[key] = count
        return AuthResult(ok=True)
