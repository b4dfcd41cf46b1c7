"""HTTP authentication for the whatwatt Go: Digest (MD5-sess, stale nonces) and Basic.

The device uses an empty user name. Firmware 1.10 and newer challenge with Digest (``MD5-sess``,
``qop=auth``); older firmware with Basic. ``AuthState`` keeps the last challenge so that every
request after the first is sent pre-authenticated (one HTTP request per call in steady state).
The digest arithmetic is exposed as pure functions so it can be checked against the formulas.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
import hashlib
import secrets
from typing import Final

DIGEST: Final = "digest"
BASIC: Final = "basic"

_TOKEN_CHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge of a ``WWW-Authenticate`` header: scheme (lower case) and parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def stale(self) -> bool:
        """Return True when the server marked the previous nonce as expired."""
        return self.params.get("stale", "").strip().lower() == "true"


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _read_token(text: str, pos: int) -> tuple[str, int]:
    start = pos
    while pos < len(text) and text[pos] in _TOKEN_CHARS:
        pos += 1
    return text[start:pos], pos


def _read_quoted(text: str, pos: int) -> tuple[str, int]:
    """Read a quoted string starting at the opening quote; backslash escapes one character."""
    out: list[str] = []
    pos += 1
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            out.append(text[pos + 1])
            pos += 2
            continue
        if char == '"':
            return "".join(out), pos + 1
        out.append(char)
        pos += 1
    return "".join(out), pos  # unterminated: take what is there


def _read_param(text: str, pos: int) -> tuple[str, str, int] | None:
    """Read ``name=value`` at pos; None when pos does not start a parameter."""
    name, after = _read_token(text, pos)
    after_name = _skip_spaces(text, after)
    if not name or after_name >= len(text) or text[after_name] != "=":
        return None
    value_pos = _skip_spaces(text, after_name + 1)
    if value_pos < len(text) and text[value_pos] == '"':
        value, end = _read_quoted(text, value_pos)
    else:
        end = value_pos
        while end < len(text) and text[end] not in ", \t":
            end += 1
        value = text[value_pos:end]
    return name.lower(), value, end


def parse_www_authenticate(header: str) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` header value into its challenges.

    Handles quoted and unquoted parameter values, commas inside quotes, escaped quotes and
    several challenges in one header (``Digest realm="a", nonce=1, Basic realm="b"``).
    """
    challenges: list[Challenge] = []
    pos = 0
    text = header
    current: Challenge | None = None
    while pos < len(text):
        pos = _skip_spaces(text, pos)
        if pos >= len(text):
            break
        if text[pos] == ",":
            pos += 1
            continue
        param = _read_param(text, pos) if current is not None else None
        if param is not None and current is not None:
            name, value, pos = param
            current.params[name] = value
            continue
        scheme, after = _read_token(text, pos)
        if not scheme:
            pos += 1  # junk character: skip it
            continue
        current = Challenge(scheme.lower(), {})
        challenges.append(current)
        pos = after
    return challenges


def md5_hex(data: str | bytes) -> str:
    """Return the lower-case hex MD5 of a UTF-8 string or of bytes."""
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.md5(raw, usedforsecurity=False).hexdigest()


def digest_ha1(
    password: str,
    realm: str,
    nonce: str,
    cnonce: str,
    *,
    algorithm: str = "MD5-sess",
    username: str = "",
) -> str:
    """HA1: ``MD5(user:realm:password)``, for ``MD5-sess`` hashed again with ``:nonce:cnonce``."""
    base = md5_hex(f"{username}:{realm}:{password}")
    if algorithm.lower() == "md5-sess":
        return md5_hex(f"{base}:{nonce}:{cnonce}")
    return base


def digest_ha2(method: str, uri: str, *, qop: str = "auth", body: bytes = b"") -> str:
    """HA2: ``MD5(METHOD:uri)``, with ``:MD5(body)`` appended for ``qop=auth-int``."""
    if qop == "auth-int":
        return md5_hex(f"{method}:{uri}:{md5_hex(body)}")
    return md5_hex(f"{method}:{uri}")


def digest_response(ha1: str, nonce: str, nc: str, cnonce: str, qop: str, ha2: str) -> str:
    """Response: ``MD5(HA1:nonce:nc:cnonce:qop:HA2)``, or ``MD5(HA1:nonce:HA2)`` without qop."""
    if not qop:
        return md5_hex(f"{ha1}:{nonce}:{ha2}")
    return md5_hex(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def basic_authorization(password: str, username: str = "") -> str:
    """Return the Basic ``Authorization`` value: ``Basic base64(user:password)``."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _choose_qop(offered: str) -> str:
    options = [item.strip().lower() for item in offered.split(",") if item.strip()]
    if not options:
        return ""
    if "auth" in options:
        return "auth"
    if "auth-int" in options:
        return "auth-int"
    return "unsupported"


class UnsupportedChallengeError(ValueError):
    """The server asked for an authentication scheme or algorithm this client cannot do."""


class AuthState:
    """Credentials plus the last challenge seen; builds ``Authorization`` values.

    ``authorization()`` returns None until a challenge has been learnt; after that every call
    returns a header for the next request (Digest: same nonce and cnonce, ``nc`` + 1).
    """

    def __init__(self, password: str | None) -> None:
        """Remember the password (None: the device is expected to be unprotected)."""
        self._password = password
        self.scheme: str | None = None
        self._params: dict[str, str] = {}
        self._qop = ""
        self._cnonce = ""
        self._nc = 0

    @property
    def has_password(self) -> bool:
        """Return True when a password was given."""
        return self._password is not None

    @property
    def nonce_count(self) -> int:
        """Number of requests signed with the current nonce."""
        return self._nc

    def reset(self) -> None:
        """Forget the learnt challenge (the next request is sent without credentials)."""
        self.scheme = None
        self._params = {}
        self._nc = 0

    def learn(self, headers: list[str]) -> Challenge:
        """Adopt the best challenge of the given ``WWW-Authenticate`` values.

        Digest is preferred over Basic. A new Digest nonce restarts ``nc`` at 1 with a fresh
        cnonce. Raises UnsupportedChallengeError when no challenge can be answered.
        """
        found = [challenge for header in headers for challenge in parse_www_authenticate(header)]
        for challenge in found:
            if challenge.scheme == DIGEST:
                algorithm = challenge.params.get("algorithm", "MD5")
                qop = _choose_qop(challenge.params.get("qop", ""))
                if algorithm.lower() not in {"md5", "md5-sess"} or qop == "unsupported":
                    continue
                if "nonce" not in challenge.params:
                    continue
                self.scheme = DIGEST
                self._params = dict(challenge.params)
                self._qop = qop
                self._cnonce = secrets.token_hex(8)
                self._nc = 0
                return challenge
        for challenge in found:
            if challenge.scheme == BASIC:
                self.scheme = BASIC
                self._params = dict(challenge.params)
                return challenge
        schemes = ", ".join(sorted({challenge.scheme for challenge in found})) or "none"
        raise UnsupportedChallengeError(f"unsupported authentication challenge: {schemes}")

    def authorization(self, method: str, uri: str, body: bytes = b"") -> str | None:
        """Return the ``Authorization`` value for the next request, or None if none is known."""
        if self._password is None or self.scheme is None:
            return None
        if self.scheme == BASIC:
            return basic_authorization(self._password)
        self._nc += 1
        params = self._params
        realm = params.get("realm", "")
        nonce = params["nonce"]
        algorithm = params.get("algorithm", "MD5")
        nc = f"{self._nc:08x}"
        ha1 = digest_ha1(self._password, realm, nonce, self._cnonce, algorithm=algorithm)
        ha2 = digest_ha2(method, uri, qop=self._qop, body=body)
        response = digest_response(ha1, nonce, nc, self._cnonce, self._qop, ha2)
        parts = [
            'username=""',
            f"realm={_quote(realm)}",
            f"nonce={_quote(nonce)}",
            f"uri={_quote(uri)}",
            f"algorithm={params.get('algorithm', 'MD5')}",
        ]
        if self._qop:
            parts += [f"qop={self._qop}", f"nc={nc}", f"cnonce={_quote(self._cnonce)}"]
        parts.append(f"response={_quote(response)}")
        if "opaque" in params:
            parts.append(f"opaque={_quote(params['opaque'])}")
        return "Digest " + ", ".join(parts)
