"""Proxied requests, authentication and identity headers (README.md, "What the upstream receives").

One gateway for the module, in front of one echo upstream: what the upstream receives is the proof.
"""
import base64
import time

import pytest

from conftest import run_gateway, wait_for
from gateway_process import Gateway, bearer, headers_named, unique
from tokens import SECRET, alg_none, b64, decode_part, mint
from upstream import header_values


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, upstream):
    gw = Gateway(
        tmp_path_factory.mktemp("proxy-auth"),
        routes=f"""
        [[routes]]
        prefix = "/api/"
        upstreams = ["{upstream.url}"]
        auth = "required"

        [[routes]]
        prefix = "/opt/"
        upstreams = ["{upstream.url}"]
        auth = "optional"

        [[routes]]
        prefix = "/open/"
        upstreams = ["{upstream.url}"]
        auth = "none"

        [[routes]]
        prefix = "/fwd/"
        upstreams = ["{upstream.url}"]
        auth = "required"
        forward_authorization = true
        """,
    ).start()
    yield gw
    gw.stop()


def identity_values(echo, canonical):
    """Every copy the upstream saw of a header that folds to `canonical` (case, `_` for `-`)."""
    return [v for k, v in echo["headers"] if k.lower().replace("_", "-") == canonical]


def assert_rejected_before_upstream(upstream, marker):
    assert upstream.requests_to(marker) == [], "a rejected request must never reach the upstream"


# -- required ----------------------------------------------------------------------------------------


def test_valid_token_injects_openid_from_sub(gateway):
    openid = unique()
    status, _, echo = gateway.get_json("/api/who", bearer(mint(openid)))
    assert status == 200
    assert identity_values(echo, "x-openid") == [openid]
    assert identity_values(echo, "x-appid") == ["wx0000000000000001"]


def test_unionid_is_injected_only_when_the_token_has_one(gateway):
    with_union = unique()
    status, _, echo = gateway.get_json("/api/who", bearer(mint(with_union, unionid="union-" + with_union)))
    assert status == 200
    assert identity_values(echo, "x-unionid") == ["union-" + with_union]

    status, _, echo = gateway.get_json("/api/who", bearer(mint(unique())))
    assert status == 200
    assert identity_values(echo, "x-unionid") == []


def test_token_minted_by_the_gateway_cli_is_accepted(gateway):
    openid = unique()
    result = run_gateway("token", "mint", "--config", str(gateway.config), "--openid", openid, "--unionid", "u-cli")
    assert result.returncode == 0, result.stderr
    status, _, echo = gateway.get_json("/api/who", bearer(result.stdout.strip()))
    assert status == 200
    assert identity_values(echo, "x-openid") == [openid]
    assert identity_values(echo, "x-unionid") == ["u-cli"]


def test_token_without_kid_like_the_peer_benchmark_is_accepted(gateway):
    openid = unique()
    token = mint(openid)
    assert "kid" not in decode_part(token, 0)
    status, _, echo = gateway.get_json("/api/who", bearer(token))
    assert status == 200
    assert identity_values(echo, "x-openid") == [openid]


def test_token_expired_within_leeway_is_accepted(gateway):
    openid = unique()
    now = int(time.time())
    status, _, _ = gateway.get_json("/api/who", bearer(mint(openid, iat=now - 600, exp=now - 5)))
    assert status == 200


def test_token_not_yet_valid_within_leeway_is_accepted(gateway):
    now = int(time.time())
    assert gateway.get_json("/api/who", bearer(mint(unique(), nbf=now + 5)))[0] == 200


def test_audience_array_containing_ours_is_accepted(gateway):
    # RFC 7519 section 4.1.3: aud is in general an array; the recipient must find itself in it.
    openid = unique()
    status, _, echo = gateway.get_json("/api/who", bearer(mint(openid, aud=["another-api", "legacy-api"])))
    assert status == 200
    assert identity_values(echo, "x-openid") == [openid]


def test_missing_token_is_401_with_bearer_realm(gateway, upstream):
    marker = unique("missing")
    status, headers, body = gateway.request("GET", f"/api/{marker}")
    assert status == 401
    challenge = headers_named(headers, "WWW-Authenticate")
    assert len(challenge) == 1 and challenge[0].startswith("Bearer ") and 'realm="' in challenge[0], challenge
    assert "error=" not in challenge[0], "a request without credentials gets no error code (RFC 6750 section 3.1)"
    assert headers_named(headers, "Content-Type")[0].startswith("application/json")
    assert_rejected_before_upstream(upstream, marker)


def test_other_authorization_scheme_is_401_as_missing_bearer_token(gateway, upstream):
    # Basic credentials carry no access token: RFC 6750 section 3 answers with the Bearer challenge.
    marker = unique("basic")
    status, headers, _ = gateway.request("GET", f"/api/{marker}", {"Authorization": "Basic dXNlcjpwYXNz"})
    assert status == 401
    assert headers_named(headers, "WWW-Authenticate")[0].startswith("Bearer ")
    assert_rejected_before_upstream(upstream, marker)


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer ", "bearer"])
def test_bearer_scheme_without_a_token_is_rejected_as_invalid_request(gateway, upstream, authorization):
    marker = unique("nobearer")
    status, headers, _ = gateway.request("GET", f"/api/{marker}", {"Authorization": authorization})
    assert status == 400
    assert 'error="invalid_request"' in headers_named(headers, "WWW-Authenticate")[0]
    assert_rejected_before_upstream(upstream, marker)


def test_bearer_scheme_name_is_case_insensitive(gateway):
    # RFC 9110 section 11.1: the authentication scheme is a case-insensitive token.
    openid = unique()
    status, _, echo = gateway.get_json("/api/who", {"Authorization": f"bearer {mint(openid)}"})
    assert status == 200
    assert identity_values(echo, "x-openid") == [openid]


def _oversized():
    token = mint(unique(), extra={"padding": "p" * 9000})
    assert len(token) > 8192
    return token


INVALID_TOKENS = {
    "expired": lambda: mint(unique(), iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
    "not_yet_valid_nbf": lambda: mint(unique(), nbf=int(time.time()) + 3600),
    "issued_in_the_future": lambda: mint(unique(), iat=int(time.time()) + 3600, exp=int(time.time()) + 7200,
                                         nbf=int(time.time()) + 3600),
    "other_issuer": lambda: mint(unique(), iss="someone-else"),
    "other_audience": lambda: mint(unique(), aud="another-api"),
    "no_expiry": lambda: mint(unique(), exp=None),
    "expiry_as_string": lambda: mint(unique(), exp=str(int(time.time()) + 3600)),
    "no_issuer": lambda: mint(unique(), iss=None),
    "no_audience": lambda: mint(unique(), aud=None),
    "audience_array_without_ours": lambda: mint(unique(), aud=["another-api", "third-api"]),
    "empty_subject": lambda: mint(""),
    "unknown_critical_header": lambda: mint(unique(), header_extra={"crit": ["x-unknown"], "x-unknown": 1}),
    "no_subject": lambda: mint("", extra={"sub": None}),
    "other_secret": lambda: mint(unique(), secret="another-secret-0123456789abcdef0123"),
    "alg_none": lambda: alg_none(unique()),
    "alg_none_with_signature": lambda: mint(unique(), alg="none"),
    "alg_rs256_header_on_hmac_key": lambda: mint(unique(), alg="RS256"),
    "alg_hs512_header": lambda: mint(unique(), alg="HS512"),
    "truncated": lambda: mint(unique())[:-10],
    "signature_removed": lambda: mint(unique()).rsplit(".", 1)[0] + ".",
    "tampered_payload": lambda: (lambda t: t.split(".")[0] + "." + b64(
        base64.urlsafe_b64decode(t.split(".")[1] + "==").replace(b'"sub":"', b'"sub":"x')) + "." + t.split(".")[2]
    )(mint(unique())),
    "oversized_over_8KiB": _oversized,
    "garbage": lambda: "this-is-not-a-jwt",
    "garbage_three_parts": lambda: "a.b.c",
    "two_parts": lambda: ".".join(mint(unique()).split(".")[:2]),
}


@pytest.mark.parametrize("kind", sorted(INVALID_TOKENS))
def test_invalid_token_is_401_invalid_token_and_never_forwarded(gateway, upstream, kind):
    marker = unique(kind)
    token = INVALID_TOKENS[kind]()
    status, headers, _ = gateway.request("GET", f"/api/{marker}", bearer(token))
    assert status == 401, kind
    challenge = headers_named(headers, "WWW-Authenticate")
    assert len(challenge) == 1 and challenge[0].startswith("Bearer "), challenge
    assert 'error="invalid_token"' in challenge[0], challenge
    assert_rejected_before_upstream(upstream, marker)


def test_token_signed_with_the_right_secret_is_the_control_for_the_invalid_cases(gateway):
    # The invalid cases differ from this one in one property each; this one must pass.
    assert gateway.get_json("/api/who", bearer(mint(unique(), secret=SECRET)))[0] == 200


# -- identity headers cannot be forged ---------------------------------------------------------------

FORGED_SPELLINGS = [
    [("X-OpenId", "forged")],
    [("x-openid", "forged")],
    [("X-OPENID", "forged")],
    [("X_OpenId", "forged")],
    [("x_openid", "forged")],
    [("X-OpenId", "forged-1"), ("X-OpenId", "forged-2")],
    [("X-OpenId", "forged-1"), ("x_openid", "forged-2"), ("X-UnionId", "forged-u"), ("X_UnionId", "forged-u2"),
     ("X-AppId", "forged-app"), ("x_appid", "forged-app2")],
]


@pytest.mark.parametrize("forged", FORGED_SPELLINGS, ids=lambda f: "+".join(n for n, _ in f))
@pytest.mark.parametrize("prefix", ["/api/", "/opt/", "/open/"])
def test_forged_identity_headers_never_reach_the_upstream(gateway, prefix, forged):
    openid = unique()
    headers = list(forged) + ([("Authorization", f"Bearer {mint(openid)}")] if prefix == "/api/" else [])
    status, _, echo = gateway.get_json(prefix + "who", headers)
    assert status == 200
    expected = [openid] if prefix == "/api/" else []
    assert identity_values(echo, "x-openid") == expected
    assert identity_values(echo, "x-unionid") == []
    assert all(v == "wx0000000000000001" for v in identity_values(echo, "x-appid"))
    assert not any("forged" in value for _, value in echo["headers"]), echo["headers"]


@pytest.mark.parametrize("connection", ["X-OpenId", "x-openid, X-UnionId", "close, X-OpenId, X-AppId"])
def test_connection_header_cannot_remove_the_injected_identity(gateway, connection):
    openid = unique()
    headers = [("Authorization", f"Bearer {mint(openid, unionid='u-' + openid)}"), ("Connection", connection),
               ("X-OpenId", "forged")]
    status, _, echo = gateway.get_json("/api/who", headers)
    assert status == 200
    assert identity_values(echo, "x-openid") == [openid]
    assert identity_values(echo, "x-unionid") == ["u-" + openid]
    assert identity_values(echo, "x-appid") == ["wx0000000000000001"]
    assert header_values(echo, "Connection") in ([], ["keep-alive"])


# -- optional and none ------------------------------------------------------------------------------


def test_optional_route_forwards_anonymous_requests_without_identity(gateway):
    status, _, echo = gateway.get_json("/opt/who")
    assert status == 200
    assert identity_values(echo, "x-openid") == []
    assert identity_values(echo, "x-unionid") == []
    assert identity_values(echo, "x-appid") == []


def test_optional_route_identifies_a_valid_token(gateway):
    openid = unique()
    status, _, echo = gateway.get_json("/opt/who", bearer(mint(openid)))
    assert status == 200
    assert identity_values(echo, "x-openid") == [openid]


@pytest.mark.parametrize("kind", ["expired", "other_secret", "alg_none", "garbage"])
def test_optional_route_rejects_an_invalid_token(gateway, upstream, kind):
    marker = unique(kind)
    status, headers, _ = gateway.request("GET", f"/opt/{marker}", bearer(INVALID_TOKENS[kind]()))
    assert status == 401
    assert 'error="invalid_token"' in headers_named(headers, "WWW-Authenticate")[0]
    assert_rejected_before_upstream(upstream, marker)


@pytest.mark.parametrize("kind", ["expired", "other_secret", "garbage"])
def test_none_route_ignores_tokens_and_adds_no_identity(gateway, kind):
    status, _, echo = gateway.get_json("/open/who", bearer(INVALID_TOKENS[kind]()))
    assert status == 200
    assert identity_values(echo, "x-openid") == []


def test_none_route_adds_no_identity_even_for_a_valid_token(gateway):
    status, _, echo = gateway.get_json("/open/who", bearer(mint(unique())))
    assert status == 200
    assert identity_values(echo, "x-openid") == []


# -- Authorization forwarding ------------------------------------------------------------------------


def test_authorization_is_not_forwarded_by_default(gateway):
    token = mint(unique())
    for prefix in ["/api/", "/opt/", "/open/"]:
        status, _, echo = gateway.get_json(prefix + "who", bearer(token))
        assert status == 200
        assert header_values(echo, "Authorization") == [], prefix
        assert token not in str(echo["headers"])


def test_authorization_is_forwarded_when_the_route_asks(gateway):
    openid = unique()
    token = mint(openid)
    status, _, echo = gateway.get_json("/fwd/who", bearer(token))
    assert status == 200
    assert header_values(echo, "Authorization") == [f"Bearer {token}"]
    assert identity_values(echo, "x-openid") == [openid]


def test_access_log_line_names_the_request_and_the_caller(gateway):
    openid = unique()
    request_id = "log-" + unique()
    headers = dict(bearer(mint(openid)))
    headers["X-Request-Id"] = request_id
    assert gateway.get_json("/api/logged?x=1", headers)[0] == 200

    def line():
        return next((entry for entry in gateway.access_log() if entry.get("request_id") == request_id), None)

    entry = wait_for(line, timeout=10, what="the access log line")
    assert entry["status"] == 200
    assert entry["method"] == "GET"
    assert entry["path"].startswith("/api/logged")
    assert entry["openid"] == openid


def test_access_log_never_contains_tokens(gateway):
    token = mint(unique())
    gateway.get_json("/api/who", bearer(token))
    gateway.request("GET", "/api/who", bearer(token[:-3]))
    signature = token.rsplit(".", 1)[1]
    assert signature not in gateway.stdout_path.read_text(errors="replace")
    assert signature not in gateway.stderr()


def test_gateway_is_still_healthy(gateway):
    assert gateway.healthy("/api/who", bearer(mint(unique())))
