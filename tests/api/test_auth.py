"""Digest and Basic arithmetic and challenge handling (pure functions, no sockets)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from custom_components.whatwatt.api.auth import (
    AuthState,
    Challenge,
    UnsupportedChallengeError,
    basic_authorization,
    digest_ha1,
    digest_ha2,
    digest_response,
    md5_hex,
    parse_www_authenticate,
)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _fields(header: str) -> dict[str, str]:
    assert header.startswith("Digest ")
    return {
        key: quoted if quoted or value == "" else value
        for key, quoted, value in re.findall(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', header[7:])
    }


def test_md5_hex_accepts_text_and_bytes() -> None:
    assert md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72"
    assert md5_hex(b"abc") == md5_hex("abc")


def test_rfc2617_md5_vector() -> None:
    """The worked example of RFC 2617 section 3.5 (algorithm MD5, qop auth)."""
    ha1 = digest_ha1(
        "Circle Of Life",
        "testrealm@host.com",
        "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        "0a4f113b",
        algorithm="MD5",
        username="Mufasa",
    )
    ha2 = digest_ha2("GET", "/dir/index.html")
    response = digest_response(
        ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth", ha2
    )
    assert response == "6629fae49393a05397450978507c4ef1"


def test_md5_sess_formulas_of_the_device_readme() -> None:
    realm, nonce, cnonce, password = "whatwatt_C3D4E5", "ab" * 16, "0123abcd", "s3cret"
    ha1_base = _md5(f":{realm}:{password}")
    ha1 = _md5(f"{ha1_base}:{nonce}:{cnonce}")
    assert digest_ha1(password, realm, nonce, cnonce) == ha1
    ha2 = _md5("GET:/api/v1/actions/status?id=3,4")
    assert digest_ha2("GET", "/api/v1/actions/status?id=3,4") == ha2
    expected = _md5(f"{ha1}:{nonce}:00000002:{cnonce}:auth:{ha2}")
    assert digest_response(ha1, nonce, "00000002", cnonce, "auth", ha2) == expected


def test_auth_int_hashes_the_body() -> None:
    body = b'{"system": {"name": "x"}}'
    expected = _md5(f"PUT:/api/v1/settings:{_md5(body.decode())}")
    assert digest_ha2("PUT", "/api/v1/settings", qop="auth-int", body=body) == expected
    assert digest_ha2("PUT", "/api/v1/settings", qop="auth-int") == _md5(
        f"PUT:/api/v1/settings:{_md5('')}"
    )


def test_response_without_qop_is_rfc2069() -> None:
    assert digest_response("h1", "n", "", "", "", "h2") == _md5("h1:n:h2")


def test_basic_uses_an_empty_user_name() -> None:
    header = basic_authorization("pw:with:colons")
    assert header.startswith("Basic ")
    assert base64.b64decode(header[6:]).decode() == ":pw:with:colons"


def test_parse_quoted_unquoted_and_commas_inside_quotes() -> None:
    (challenge,) = parse_www_authenticate(
        'Digest realm="whatwatt_C3D4E5", qop="auth,auth-int", algorithm=MD5-sess, '
        'nonce="abc,def", opaque=0f0f, stale=TRUE'
    )
    assert challenge.scheme == "digest"
    assert challenge.params == {
        "realm": "whatwatt_C3D4E5",
        "qop": "auth,auth-int",
        "algorithm": "MD5-sess",
        "nonce": "abc,def",
        "opaque": "0f0f",
        "stale": "TRUE",
    }
    assert challenge.stale


def test_parse_escapes_spaces_and_several_challenges() -> None:
    challenges = parse_www_authenticate(
        'Digest  realm = "a \\"quoted\\" realm" ,nonce=n1 , Basic realm="b", Bearer'
    )
    assert [c.scheme for c in challenges] == ["digest", "basic", "bearer"]
    assert challenges[0].params == {"realm": 'a "quoted" realm', "nonce": "n1"}
    assert challenges[1].params == {"realm": "b"}
    assert not challenges[0].stale


def test_parse_odd_input_does_not_raise() -> None:
    assert parse_www_authenticate("") == []
    assert parse_www_authenticate("   ,  ") == []
    (challenge,) = parse_www_authenticate('Digest realm="unterminated')
    assert challenge.params == {"realm": "unterminated"}
    assert [c.scheme for c in parse_www_authenticate("(( Basic")] == ["basic"]
    (empty,) = parse_www_authenticate("Digest nonce=")
    assert empty.params == {"nonce": ""}


CHALLENGE = (
    'Digest realm="whatwatt_C3D4E5", qop="auth", algorithm=MD5-sess, '
    'nonce="00112233445566778899aabbccddeeff", opaque="fedcba9876543210"'
)


def _check(header: str, password: str, method: str, uri: str) -> dict[str, str]:
    fields = _fields(header)
    ha1 = _md5(
        f"{_md5(':' + fields['realm'] + ':' + password)}:{fields['nonce']}:{fields['cnonce']}"
    )
    ha2 = _md5(f"{method}:{uri}")
    expected = _md5(
        f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{fields['qop']}:{ha2}"
    )
    assert fields["response"] == expected
    return fields


def test_state_signs_every_request_with_the_same_nonce() -> None:
    state = AuthState("pw")
    assert state.authorization("GET", "/api/v1/report") is None
    challenge = state.learn([CHALLENGE])
    assert isinstance(challenge, Challenge)
    first = _check(
        state.authorization("GET", "/api/v1/report") or "", "pw", "GET", "/api/v1/report"
    )
    second = _check(
        state.authorization("PUT", "/api/v1/settings") or "", "pw", "PUT", "/api/v1/settings"
    )
    assert first["username"] == ""
    assert first["realm"] == "whatwatt_C3D4E5"
    assert first["opaque"] == "fedcba9876543210"
    assert first["algorithm"] == "MD5-sess"
    assert first["uri"] == "/api/v1/report"
    assert (first["nc"], second["nc"]) == ("00000001", "00000002")
    assert first["cnonce"] == second["cnonce"]
    assert re.fullmatch(r"[0-9a-f]{16}", first["cnonce"])
    assert state.nonce_count == 2


def test_new_nonce_restarts_nc_with_a_fresh_cnonce() -> None:
    state = AuthState("pw")
    state.learn([CHALLENGE])
    old = _fields(state.authorization("GET", "/x") or "")
    state.authorization("GET", "/x")
    state.learn([CHALLENGE.replace("00112233", "99999999") + ", stale=true"])
    new = _fields(state.authorization("GET", "/x") or "")
    assert new["nc"] == "00000001"
    assert new["nonce"].startswith("99999999")
    assert new["cnonce"] != old["cnonce"]


def test_auth_int_only_and_plain_md5_challenges() -> None:
    state = AuthState("pw")
    state.learn(['Digest realm="r", nonce="n", qop="auth-int"'])
    fields = _fields(state.authorization("PUT", "/p", b"{}") or "")
    assert fields["qop"] == "auth-int"
    assert fields["algorithm"] == "MD5"
    ha1 = _md5(":r:pw")
    ha2 = _md5(f"PUT:/p:{_md5('{}')}")
    assert fields["response"] == _md5(f"{ha1}:n:00000001:{fields['cnonce']}:auth-int:{ha2}")
    assert "opaque" not in fields

    state.learn(['Digest realm="r", nonce="n"'])  # RFC 2069 style: no qop, no nc/cnonce
    fields = _fields(state.authorization("GET", "/p") or "")
    assert "nc" not in fields
    assert fields["response"] == _md5(f"{ha1}:n:{_md5('GET:/p')}")


def test_digest_preferred_over_basic_and_basic_is_preemptive() -> None:
    state = AuthState("pw")
    state.learn(['Basic realm="x"', CHALLENGE])
    assert state.scheme == "digest"
    basic = AuthState("pw")
    basic.learn(['Basic realm="whatwatt_C3D4E5"'])
    assert basic.scheme == "basic"
    assert basic.authorization("GET", "/a") == basic_authorization("pw")
    assert basic.authorization("GET", "/b") == basic_authorization("pw")
    basic.reset()
    assert basic.authorization("GET", "/a") is None


@pytest.mark.parametrize(
    "header",
    [
        'Digest realm="r", nonce="n", algorithm=SHA-256',
        'Digest realm="r", nonce="n", qop="auth-conf"',
        'Digest realm="r"',
        "Bearer",
        "",
    ],
)
def test_unsupported_challenges(header: str) -> None:
    with pytest.raises(UnsupportedChallengeError):
        AuthState("pw").learn([header])


def test_no_password_never_signs() -> None:
    state = AuthState(None)
    assert not state.has_password
    state.learn([CHALLENGE])
    assert state.authorization("GET", "/") is None
