"""normalize_host: the canonical host[:port] form of a user-typed address."""

from __future__ import annotations

import pytest

from custom_components.whatwatt.api.client import normalize_host


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3.4", "1.2.3.4"),
        (" 192.168.1.50 ", "192.168.1.50"),
        ("1.2.3.4:8080", "1.2.3.4:8080"),
        ("1.2.3.4:80", "1.2.3.4"),
        ("whatwatt-C3D4E5.local", "whatwatt-c3d4e5.local"),
        ("whatwatt_C3D4E5", "whatwatt_c3d4e5"),
        ("Name.local.", "name.local"),
        ("name:8080", "name:8080"),
        ("name:00081", "name:81"),
        ("[fe80::1]:81", "[fe80::1]:81"),
        ("[FE80:0:0::1]", "[fe80::1]"),
        ("[fe80::1]:80", "[fe80::1]"),
        ("fe80::1", "[fe80::1]"),
        ("2001:db8::a:b", "[2001:db8::a:b]"),
        ("::ffff:1.2.3.4", "[::ffff:1.2.3.4]"),
    ],
)
def test_valid_addresses(text: str, expected: str) -> None:
    assert normalize_host(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "http://1.2.3.4",
        "1.2.3.4/api",
        "host?x=1",
        "host#frag",
        "user@host",
        ":pw@host",
        "two words",
        "host:",
        "host:0",
        "host:65536",
        "host:-1",
        "host:http",
        "[fe80::1",
        "[fe80::1]x",
        "[fe80::1]:",
        "[not-v6]",
        "fe80::zz",
        "999.1.1.1",
        "1.2.3",
        "-bad.example",
        "bad-.example",
        "a..b",
        ".",
        "x" * 64,
        "back\\slash",
        "fe80::1%eth0",
        "[fe80::1%25eth0]:81",
    ],
)
def test_invalid_addresses(text: str) -> None:
    with pytest.raises(ValueError):
        normalize_host(text)
