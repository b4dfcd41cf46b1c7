"""Helpers for the simulator tests: a plain aiohttp session and a tiny Digest signer."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

import aiohttp
import pytest

from simulator.auth import parse_digest_params

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    """Return a plain aiohttp session (closed at teardown)."""
    async with aiohttp.ClientSession() as client:
        yield client


def _md5(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return hashlib.md5(raw, usedforsecurity=False).hexdigest()


def digest_header(
    challenge: str,
    method: str,
    uri: str,
    password: str,
    *,
    nc: int = 1,
    cnonce: str | None = None,
    qop: str = "auth",
    body: bytes = b"",
    username: str = "",
) -> str:
    """Return an ``Authorization`` value answering ``challenge`` (MD5-sess, RFC 7616 style)."""
    p = parse_digest_params(challenge.partition(" ")[2])
    realm, nonce, opaque = p["realm"], p["nonce"], p["opaque"]
    cnonce = cnonce or secrets.token_hex(8)
    ncs = f"{nc:08x}"
    ha1 = _md5(f"{_md5(f'{username}:{realm}:{password}')}:{nonce}:{cnonce}")
    ha2 = _md5(f"{method}:{uri}" + (f":{_md5(body)}" if qop == "auth-int" else ""))
    response = _md5(f"{ha1}:{nonce}:{ncs}:{cnonce}:{qop}:{ha2}")
    return (
        f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'algorithm=MD5-sess, qop={qop}, nc={ncs}, cnonce="{cnonce}", '
        f'response="{response}", opaque="{opaque}"'
    )
