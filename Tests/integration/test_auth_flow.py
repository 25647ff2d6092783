"""The control plane end to end (docs/architecture.md, "The control plane"): login with a wx.login() code
against the real `gateway mock-wechat`, proxied calls carrying X-OpenId, refresh-token rotation and theft detection,
RFC 7009 revocation, logout, the JWKS, and sessions surviving a restart.
"""
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway_process import bearer, unique
from tokens import APPID, decode_part, mint
from wechat_simulator import AuthGateway, header

UPSTREAM_NAME = "legacy"  # conftest.py's `upstream` fixture puts this name in its answers


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, simulator, upstream):
    gw = AuthGateway(tmp_path_factory.mktemp("auth-flow"), simulator, upstream_url=upstream.url).start()
    yield gw
    gw.stop()


def call_api(gw, access_token, marker="whoami"):
    status, headers, body = gw.request("GET", f"/api/{marker}", bearer(access_token))
    return status, headers, (json.loads(body) if body and status == 200 else body)


def upstream_header(echo, name):
    return [v for k, v in echo["headers"] if k.lower() == name.lower()]


def test_login_api_call_refresh_logout_walks_the_whole_flow(gateway):
    openid = unique("alice")
    tokens = gateway.login(f"openid:{openid}")
    assert tokens["token_type"] == "Bearer" and tokens["openid"] == openid
    assert tokens["expires_in"] == 15 * 60 and tokens["refresh_expires_in"] > 29 * 86400
    claims = decode_part(tokens["access_token"], 1)
    assert claims["sub"] == openid and claims["appid"] == APPID and claims["jti"]

    status, _, echo = call_api(gateway, tokens["access_token"])
    assert status == 200
    assert upstream_header(echo, "X-OpenId") == [openid]
    assert upstream_header(echo, "X-AppId") == [APPID]

    status, _, refreshed = gateway.refresh(tokens["refresh_token"])
    assert status == 200, refreshed
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    assert refreshed["openid"] == openid
    status, _, echo = call_api(gateway, refreshed["access_token"])
    assert status == 200 and upstream_header(echo, "X-OpenId") == [openid]

    status, headers, body = gateway.request("POST", "/auth/logout", bearer(refreshed["access_token"]))
    assert status == 204 and body == b""
    # At once: the very next request on the proxy path is refused.
    status, headers, _ = call_api(gateway, refreshed["access_token"])
    assert status == 401
    assert "invalid_token" in header(headers, "WWW-Authenticate")
    # The session ended with it: the refresh token of the family is refused too.
    status, _, body = gateway.refresh(refreshed["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant"


def test_logout_of_a_token_inside_the_expiry_leeway_stays_refused(gateway):
    # exp has passed but the 30 s leeway still accepts the token: the revocation must outlive the
    # leeway, or the token works again right after its logout.
    token = mint(unique("late"), exp=int(time.time()) - 5)
    assert call_api(gateway, token)[0] == 200
    assert gateway.request("POST", "/auth/logout", bearer(token))[0] == 204
    assert call_api(gateway, token)[0] == 401


def test_logout_ends_every_access_token_of_the_session_not_only_the_one_presented(gateway):
    tokens = gateway.login(f"openid:{unique('sess')}")
    status, _, refreshed = gateway.refresh(tokens["refresh_token"])
    assert status == 200
    # Both access tokens of the session work until the logout...
    assert call_api(gateway, tokens["access_token"])[0] == 200
    assert gateway.request("POST", "/auth/logout", bearer(refreshed["access_token"]))[0] == 204
    # ...and the older one, never presented to /auth/logout, is refused from then on too.
    assert call_api(gateway, tokens["access_token"])[0] == 401


def test_refresh_token_replay_also_ends_the_access_tokens_already_handed_out(gateway):
    tokens = gateway.login(f"openid:{unique('theft')}")
    status, _, refreshed = gateway.refresh(tokens["refresh_token"])
    assert status == 200
    assert call_api(gateway, refreshed["access_token"])[0] == 200
    # The spent token again: a thief or the victim holds a copy; every token of the session ends.
    assert gateway.refresh(tokens["refresh_token"])[0] == 400
    assert call_api(gateway, refreshed["access_token"])[0] == 401
    assert call_api(gateway, tokens["access_token"])[0] == 401


def test_logout_without_a_bearer_token_is_401(gateway):
    status, headers, _ = gateway.request("POST", "/auth/logout")
    assert status == 401 and header(headers, "WWW-Authenticate").startswith("Bearer")


def test_unionid_is_returned_and_forwarded_when_wechat_knows_it(gateway):
    tokens = gateway.login(f"openid:{unique('u')}+union")
    assert tokens["unionid"]
    assert decode_part(tokens["access_token"], 1)["unionid"] == tokens["unionid"]
    status, _, echo = call_api(gateway, tokens["access_token"])
    assert status == 200 and upstream_header(echo, "X-UnionId") == [tokens["unionid"]]


def test_login_without_union_binding_has_no_unionid(gateway):
    tokens = gateway.login(f"openid:{unique('n')}")
    assert "unionid" not in tokens


def test_rotated_refresh_token_works_and_reusing_the_old_one_revokes_the_family(gateway):
    first = gateway.login(f"openid:{unique('rot')}")
    status, _, second = gateway.refresh(first["refresh_token"])
    assert status == 200
    status, _, third = gateway.refresh(second["refresh_token"])
    assert status == 200, "the rotated refresh token must work"

    # The spent first token presented again: theft (RFC 9700 section 4.14.2).
    status, headers, body = gateway.refresh(first["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant"
    assert header(headers, "Cache-Control") == "no-store"
    # The whole family is gone, including the newest token that was never used.
    status, _, body = gateway.refresh(third["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant"


def test_concurrent_refreshes_of_one_token_have_exactly_one_winner(gateway):
    tokens = gateway.login(f"openid:{unique('race')}")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: gateway.refresh(tokens["refresh_token"]), range(8)))
    statuses = sorted(status for status, _, _ in results)
    assert statuses.count(200) == 1, statuses
    assert all(status == 400 and body["error"] == "invalid_grant" for status, _, body in results if status != 200)


def test_refresh_accepts_form_and_json_bodies(gateway):
    tokens = gateway.login(f"openid:{unique('body')}")
    status, headers, form_answer = gateway.post_form(
        "/auth/token", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert status == 200, form_answer
    assert header(headers, "Content-Type") == "application/json; charset=utf-8"
    status, _, json_answer = gateway.post_json(
        "/auth/token", {"grant_type": "refresh_token", "refresh_token": form_answer["refresh_token"]}
    )
    assert status == 200, json_answer
    assert json_answer["refresh_token"] not in (tokens["refresh_token"], form_answer["refresh_token"])


def test_refresh_with_charset_in_content_type_is_accepted(gateway):
    tokens = gateway.login(f"openid:{unique('cs')}")
    body = f"grant_type=refresh_token&refresh_token={tokens['refresh_token']}".encode()
    status, _, data = gateway.request(
        "POST", "/auth/token", {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}, body
    )
    assert status == 200, data


def test_password_grant_is_unsupported_grant_type(gateway):
    fields = {"grant_type": "password", "username": "a", "password": "b"}
    status, headers, body = gateway.post_form("/auth/token", fields)
    assert status == 400 and body["error"] == "unsupported_grant_type"
    assert header(headers, "Cache-Control") == "no-store"


@pytest.mark.parametrize(
    "fields, error",
    [
        ({}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "never-issued"}, "invalid_grant"),
        # Longer than any token the gateway issues: not one of ours, said as such (not "is required").
        ({"grant_type": "refresh_token", "refresh_token": "x" * 300}, "invalid_grant"),
    ],
)
def test_malformed_or_unknown_refresh_requests_are_refused(gateway, fields, error):
    status, _, body = gateway.post_form("/auth/token", fields)
    assert status == 400 and body["error"] == error


def test_repeated_form_parameter_is_invalid_request(gateway):
    # RFC 6749 section 3.2: request parameters must not be included more than once.
    status, _, data = gateway.request(
        "POST",
        "/auth/token",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"grant_type=refresh_token&refresh_token=a&refresh_token=b",
    )
    assert status == 400 and json.loads(data)["error"] == "invalid_request"
    assert "refresh_token must not appear more than once" in json.loads(data)["error_description"]


@pytest.mark.parametrize("body", [
    b'{"code":"openid:first","code":"openid:second"}',
    b'{"code":"openid:\xff\xfe"}',
], ids=["repeated-name", "not-utf8"])
def test_login_body_that_says_two_things_or_is_not_utf8_is_invalid_request(gateway, body):
    # Before, the last repeated name won silently and invalid UTF-8 became U+FFFD on its way to WeChat.
    status, _, data = gateway.request("POST", "/auth/login", {"Content-Type": "application/json"}, body)
    assert status == 400 and json.loads(data)["error"] == "invalid_request"


def test_token_endpoint_answers_carry_no_store(gateway):
    tokens = gateway.login(f"openid:{unique('cache')}")
    answers = [
        gateway.post_json("/auth/login", {"code": f"openid:{unique('cache')}"}),
        gateway.post_json("/auth/login", {"code": ""}),
        gateway.refresh(tokens["refresh_token"]),
        gateway.refresh(tokens["refresh_token"]),
        gateway.post_form("/auth/revoke", {"token": "whatever"}),
    ]
    for status, headers, body in answers:
        assert header(headers, "Cache-Control") == "no-store", (status, body)
        assert header(headers, "Content-Type") == "application/json; charset=utf-8"


def test_revoke_answers_200_for_any_token_and_ends_the_refresh_family(gateway):
    for token in ["never-issued", "a.b.c", "x" * 400]:
        status, headers, _ = gateway.post_form("/auth/revoke", {"token": token})
        assert status == 200, token
        assert header(headers, "Cache-Control") == "no-store"

    tokens = gateway.login(f"openid:{unique('rev')}")
    fields = {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"}
    status, _, _ = gateway.post_form("/auth/revoke", fields)
    assert status == 200
    status, _, body = gateway.refresh(tokens["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant"
    # Revoking twice is still 200 (RFC 7009 section 2.2).
    status, _, _ = gateway.post_form("/auth/revoke", {"token": tokens["refresh_token"]})
    assert status == 200


def test_revoking_an_access_token_refuses_it_on_the_proxy_path_at_once(gateway):
    tokens = gateway.login(f"openid:{unique('reva')}")
    assert call_api(gateway, tokens["access_token"])[0] == 200
    status, _, _ = gateway.post_form("/auth/revoke", {"token": tokens["access_token"]})
    assert status == 200
    assert call_api(gateway, tokens["access_token"])[0] == 401
    status, _, body = gateway.refresh(tokens["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant"


def test_control_endpoints_refuse_other_methods(gateway):
    status, headers, _ = gateway.request("GET", "/auth/login")
    assert status == 405 and header(headers, "Allow") == "POST"


def test_jwks_refuses_other_methods_with_the_ones_it_answers(gateway):
    # RFC 9110 section 15.5.6: a known path with another method is 405 with Allow, not 404 (issue 26 item 2: one
    # route table drives matching and the 405 for every control endpoint).
    status, headers, body = gateway.request("POST", "/.well-known/jwks.json", body=b"{}")
    assert status == 405 and header(headers, "Allow") == "GET, HEAD", (status, headers)
    assert json.loads(body)["error"] == "invalid_request"
    assert header(headers, "X-Gateway-Error") == "invalid_request"


def test_jwks_answers_json(gateway):
    status, headers, body = gateway.request("GET", "/.well-known/jwks.json")
    assert status == 200
    assert header(headers, "Content-Type").startswith("application/json")
    # HS256 has no public key to publish: the set is empty, but it is a JWK Set.
    assert isinstance(json.loads(body)["keys"], list)


def test_sessions_and_revocations_survive_a_restart(tmp_path, simulator, upstream):
    first = AuthGateway(tmp_path, simulator, upstream_url=upstream.url, name="before").start()
    try:
        kept = first.login(f"openid:{unique('keep')}")
        gone = first.login(f"openid:{unique('gone')}")
        assert first.request("POST", "/auth/logout", bearer(gone["access_token"]))[0] == 204
        late = mint(unique("late"), exp=int(time.time()) - 5)  # inside the leeway
        assert first.request("POST", "/auth/logout", bearer(late))[0] == 204
    finally:
        first.stop()
    assert first.process.returncode == 0, first.stderr()

    second = AuthGateway(tmp_path, simulator, upstream_url=upstream.url, name="after").start()
    try:
        status, _, refreshed = second.refresh(kept["refresh_token"])
        assert status == 200, refreshed
        assert call_api(second, refreshed["access_token"])[0] == 200
        # The access token of the session ended before the restart is still refused...
        assert call_api(second, gone["access_token"])[0] == 401
        assert call_api(second, late)[0] == 401
        # ...and so is its refresh token.
        status, _, body = second.refresh(gone["refresh_token"])
        assert status == 400 and body["error"] == "invalid_grant"
        # The access token issued before the restart for the live session still works.
        assert call_api(second, kept["access_token"])[0] == 200
    finally:
        second.stop()


def test_wechat_calls_are_counted_by_api_and_errcode(gateway):
    from gateway_process import scrape

    gateway.login(f"openid:{unique('metrics')}")
    gateway.login(f"invalid-{unique('m')}", expect=400)
    samples = scrape(gateway)

    def value(name, **labels):
        return sum(v for (n, ls), v in samples.items() if n == name and all((k, w) in ls for k, w in labels.items()))

    assert value("gateway_wechat_api_calls_total", api="/sns/jscode2session", errcode="0") >= 1, samples
    assert value("gateway_wechat_api_calls_total", api="/sns/jscode2session", errcode="40029") >= 1
    assert value("gateway_wechat_api_duration_seconds_count", api="/sns/jscode2session") >= 2
