"""Issue 15, items 2 and 3: claim values a gateway must never act on, even when the signature is good.

Identity values with CR, LF or another control character would become header lines of their own toward the
legacy services; a NumericDate of 1e400 parses as infinity and would never expire. Each is 401 invalid_token,
and `gateway token mint` refuses to write such identities in the first place.
"""
import pytest

from conftest import run_gateway
from gateway_process import Gateway, bearer, unique
from tokens import SECRET, b64, mint

import hashlib
import hmac
import json


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, upstream):
    gw = Gateway(
        tmp_path_factory.mktemp("claims"),
        routes=f"""
        [[routes]]
        prefix = "/api/"
        upstreams = ["{upstream.url}"]
        """,
    ).start()
    yield gw
    gw.stop()


def signed(claims_json: str) -> str:
    """An HS256 token whose claims set is exactly `claims_json` (Python's json cannot write 1e400)."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = header + "." + b64(claims_json.encode())
    return signing_input + "." + b64(hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest())


def assert_invalid_token(gateway, upstream, token, marker):
    status, headers, body = gateway.request("GET", f"/api/{marker}", bearer(token))
    assert status == 401, body
    challenge = dict((k.lower(), v) for k, v in headers)["www-authenticate"]
    assert 'error="invalid_token"' in challenge
    assert upstream.requests_to(marker) == [], "a refused token must never reach the upstream"


@pytest.mark.parametrize("claim", ["sub", "unionid", "appid"])
@pytest.mark.parametrize("value", ["alice\r\nX-Admin: 1", "alice\nX-Admin: 1", "al\rice", "a\tb", "a\x00b", "a\x7f"])
def test_identity_claim_with_control_characters_is_invalid_token(gateway, upstream, claim, value):
    options = {"sub": unique()}
    if claim == "sub":
        options["sub"] = value
    else:
        options[claim] = value
    marker = unique("ctl")
    assert_invalid_token(gateway, upstream, mint(**options), marker)


def test_ordinary_identity_still_passes(gateway, upstream):
    status, _, body = gateway.request("GET", "/api/plain", bearer(mint(unique(), unionid="o6_bmjrPTlm6_2sgVt7hMZOPfL2M")))
    assert status == 200, body


@pytest.mark.parametrize(
    "member", ['"exp":1e400', '"exp":1E999', '"exp":1e15', '"exp":-1', '"iat":-1e400', '"nbf":-5', '"iat":1e300']
)
def test_non_finite_or_out_of_range_dates_are_invalid_token(gateway, upstream, member):
    import time

    now = int(time.time())
    name = member.split(":")[0].strip('"')
    claims = {"iss": "gateway", "aud": "legacy-api", "sub": unique(), "iat": now, "exp": now + 600}
    claims.pop(name, None)
    text = "{" + member + "," + json.dumps(claims, separators=(",", ":"))[1:]
    assert_invalid_token(gateway, upstream, signed(text), unique("date"))


@pytest.mark.parametrize("option", ["--openid", "--unionid", "--appid"])
def test_token_mint_refuses_identity_with_control_characters(gateway, option):
    args = ["token", "mint", "--config", str(gateway.config), "--openid", "alice"]
    if option == "--openid":
        args[-1] = "alice\r\nX-Admin: 1"
    else:
        args += [option, "x\ny"]
    result = run_gateway(*args)
    assert result.returncode != 0
    assert result.stdout == "", "no token may be printed"
    assert option in result.stderr and "line break" in result.stderr, result.stderr


def test_token_mint_still_mints_plain_identities(gateway, upstream):
    result = run_gateway("token", "mint", "--config", str(gateway.config), "--openid", "o-plain", "--unionid", "u-plain")
    assert result.returncode == 0, result.stderr
    status, _, body = gateway.request("GET", "/api/minted", bearer(result.stdout.strip()))
    assert status == 200, body
