"""Attack suite for access tokens: every forged, stale or malformed JWT is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from workplace_roleplay.adapters.jwt_tokens import JwtAccessTokens
from workplace_roleplay.errors import ConfigurationError, InvalidToken, TokenExpired

NOW = 1_800_000_000.0
SECRET_1 = "first-signing-secret-of-at-least-32-bytes!"
SECRET_2 = "second-signing-secret-of-at-least-32-bytes"


def hs256(keys: dict[str, str] | None = None, active: str = "k1", **kw: Any) -> JwtAccessTokens:
    return JwtAccessTokens(
        algorithm="HS256",
        active_kid=active,
        keys=keys or {"k1": SECRET_1},
        issuer=kw.get("issuer", "wr"),
        audience=kw.get("audience", "wr-api"),
        ttl_s=900,
        leeway_s=30,
    )


@pytest.fixture(scope="module")
def rsa_pems() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def rs256(keys: dict[str, str], active: str = "r1") -> JwtAccessTokens:
    return JwtAccessTokens(
        algorithm="RS256", active_kid=active, keys=keys, issuer="wr", audience="wr-api", ttl_s=900, leeway_s=30
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": "wr",
        "aud": "wr-api",
        "sub": "user-1",
        "iat": int(NOW),
        "exp": int(NOW) + 900,
        "jti": "j1",
        "fid": "f1",
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def signed(payload: dict[str, Any], *, key: str = SECRET_1, kid: str = "k1") -> str:
    return jwt.encode(payload, key, algorithm="HS256", headers={"kid": kid})


def test_a_fresh_token_verifies_with_its_claims() -> None:
    codec = hs256()
    token, issued = codec.issue(user_id="user-1", family_id="fam", now=NOW)
    verified = codec.verify(token, now=NOW + 10)
    assert verified == issued
    assert verified.key_id == "k1"
    assert jwt.get_unverified_header(token)["kid"] == "k1"
    assert verified.expires_at - verified.issued_at == 900


def test_alg_none_is_refused() -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "k1"}).encode())
    token = f"{header}.{b64(json.dumps(claims()).encode())}."
    with pytest.raises(InvalidToken):
        hs256().verify(token, now=NOW)


def test_hs256_forged_with_the_rs256_public_key_is_refused(rsa_pems: tuple[str, str]) -> None:
    private, public = rsa_pems
    codec = rs256({"r1": private})
    signing_input = (
        f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': 'r1'}).encode())}.{b64(json.dumps(claims()).encode())}"
    )
    mac = hmac.new(public.encode(), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken):
        codec.verify(f"{signing_input}.{b64(mac)}", now=NOW)
    good, _ = codec.issue(user_id="user-1", family_id="f", now=NOW)
    assert codec.verify(good, now=NOW).user_id == "user-1"


def test_expired_token_is_refused_as_expired() -> None:
    token, _ = hs256().issue(user_id="u", family_id="f", now=NOW)
    assert hs256().verify(token, now=NOW + 900 + 29).user_id == "u"  # inside the 30 s leeway
    with pytest.raises(TokenExpired):
        hs256().verify(token, now=NOW + 900 + 31)


@pytest.mark.parametrize("payload", [claims(iat=int(NOW) + 120), claims(nbf=int(NOW) + 120)])
def test_not_yet_valid_token_is_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken) as caught:
        hs256().verify(signed(payload), now=NOW)
    assert not isinstance(caught.value, TokenExpired)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(claims(aud="someone-else"), id="wrong-aud"),
        pytest.param(claims(iss="https://evil.example"), id="wrong-iss"),
        pytest.param(claims(sub=None), id="missing-sub"),
        pytest.param(claims(exp=None), id="missing-exp"),
        pytest.param(claims(jti=None), id="missing-jti"),
        pytest.param(claims(iat=None), id="missing-iat"),
        pytest.param(claims(aud=None), id="missing-aud"),
        pytest.param(claims(iss=None), id="missing-iss"),
        pytest.param(claims(sub=7), id="sub-not-a-string"),
        pytest.param(claims(exp=int(NOW) + 86_400), id="lifetime-longer-than-configured"),
        pytest.param(claims(exp="soon"), id="exp-not-a-number"),
    ],
)
def test_bad_claims_are_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        hs256().verify(signed(payload), now=NOW)


def test_tampered_payload_is_refused() -> None:
    token, _ = hs256().issue(user_id="user-1", family_id="f", now=NOW)
    header, _payload, signature = token.split(".")
    forged = f"{header}.{b64(json.dumps(claims(sub='admin')).encode())}.{signature}"
    with pytest.raises(InvalidToken):
        hs256().verify(forged, now=NOW)


def test_wrong_secret_is_refused() -> None:
    with pytest.raises(InvalidToken):
        hs256().verify(signed(claims(), key="another-secret-that-is-also-32-bytes!!"), now=NOW)


@pytest.mark.parametrize("kid", ["k9", "", None])
def test_unknown_or_missing_kid_is_refused(kid: str | None) -> None:
    headers = {"kid": kid} if kid is not None else {}
    token = jwt.encode(claims(), SECRET_1, algorithm="HS256", headers=headers)
    with pytest.raises(InvalidToken):
        hs256().verify(token, now=NOW)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 5000])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        hs256().verify(garbage, now=NOW)


def test_rotation_old_key_verifies_until_retired() -> None:
    old = hs256({"k1": SECRET_1}, "k1")
    token, _ = old.issue(user_id="u", family_id="f", now=NOW)
    # Deploy 1: k2 added and made active; k1 still verifies what it signed.
    both = hs256({"k1": SECRET_1, "k2": SECRET_2}, "k2")
    assert both.verify(token, now=NOW).user_id == "u"
    fresh, _ = both.issue(user_id="u", family_id="f", now=NOW)
    assert jwt.get_unverified_header(fresh)["kid"] == "k2"
    # Deploy 2 (after one access-token lifetime): k1 retired; its tokens stop verifying.
    retired = hs256({"k2": SECRET_2}, "k2")
    with pytest.raises(InvalidToken):
        retired.verify(token, now=NOW)
    assert retired.verify(fresh, now=NOW).user_id == "u"


def test_rs256_retired_key_may_stay_as_public_only(rsa_pems: tuple[str, str]) -> None:
    private, public = rsa_pems
    token, _ = rs256({"r1": private}).issue(user_id="u", family_id="f", now=NOW)
    new_private = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ring = rs256({"r2": new_private.decode(), "r1": public}, active="r2")
    assert ring.verify(token, now=NOW).key_id == "r1"
    jwks = ring.public_jwks()
    assert {k["kid"] for k in jwks["keys"]} == {"r1", "r2"}
    assert all("d" not in k for k in jwks["keys"])  # no private parts published
    with pytest.raises(ConfigurationError, match="no signing key"):
        rs256({"r1": public}, active="r1")


def test_hs256_ring_refuses_to_publish_secrets() -> None:
    assert hs256().public_jwks() == {"keys": []}
