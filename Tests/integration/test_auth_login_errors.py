"""Login failures (README.md, "HTTP endpoints of the gateway"): every WeChat errcode the simulator can give,
a WeChat that is down or hangs, bad requests, several apps, and the per-address rate limit.
"""
import socket

import pytest

from conftest import free_port
from gateway_process import unique
from tokens import APPID
from wechat_simulator import APP_SECRET, AuthGateway, WeChatSimulator, header

SECOND_APPID = "wx0000000000000002"
SECOND_SECRET = "second-app-secret-51d0e2"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, simulator):
    gw = AuthGateway(tmp_path_factory.mktemp("auth-errors"), simulator).start()
    yield gw
    gw.stop()


def login(gw, payload):
    return gw.post_json("/auth/login", payload)


@pytest.mark.parametrize(
    "code, status, error",
    [
        ("invalid-code", 400, "invalid_grant"),  # 40029
        ("blocked-user", 403, "access_denied"),  # 40226
        ("busy-now", 503, "temporarily_unavailable"),  # -1
    ],
)
def test_wechat_errcodes_map_to_oauth_errors(gateway, code, status, error):
    got, headers, body = login(gateway, {"code": f"{code}-{unique()}"})
    assert (got, body["error"]) == (status, error), body
    assert header(headers, "Cache-Control") == "no-store"
    assert header(headers, "Content-Type") == "application/json; charset=utf-8"
    assert body["error_description"]


def test_wechat_rate_limit_is_429_with_retry_after(gateway):
    status, headers, body = login(gateway, {"code": f"limit-{unique()}"})
    assert status == 429, body
    assert int(header(headers, "Retry-After")) > 0


def test_code_used_twice_is_invalid_grant_the_second_time(gateway):
    code = f"openid:{unique('twice')}"
    gateway.login(code)
    status, _, body = login(gateway, {"code": code})  # WeChat answers 40163
    assert status == 400 and body["error"] == "invalid_grant"


@pytest.mark.parametrize("payload", [{}, {"code": ""}, {"code": None}, {"appid": APPID}])
def test_missing_or_empty_code_is_invalid_request(gateway, payload):
    status, _, body = login(gateway, payload)
    assert status == 400 and body["error"] == "invalid_request", body


def test_body_that_is_not_a_json_object_is_invalid_request(gateway):
    for raw in [b"[1,2]", b"{not json", b"\"code\""]:
        status, _, data = gateway.request("POST", "/auth/login", {"Content-Type": "application/json"}, raw)
        assert status == 400 and b"invalid_request" in data, raw


def test_unknown_appid_is_invalid_request(gateway):
    status, _, body = login(gateway, {"code": f"openid:{unique()}", "appid": "wx9999999999999999"})
    assert status == 400 and body["error"] == "invalid_request"


def test_explicit_appid_of_the_single_app_is_accepted(gateway):
    tokens = gateway.login(f"openid:{unique('explicit')}", appid=APPID)
    assert tokens["openid"].startswith("explicit")


def test_several_apps_need_an_appid_and_each_logs_into_its_own(tmp_path):
    apps = {APPID: APP_SECRET, SECOND_APPID: SECOND_SECRET}
    sim = WeChatSimulator(apps, workdir=tmp_path).start()
    gw = AuthGateway(tmp_path, sim)
    try:
        gw.start()
        status, _, body = login(gw, {"code": f"openid:{unique()}"})
        assert status == 400 and body["error"] == "invalid_request"
        assert "appid" in body["error_description"]

        from tokens import decode_part

        second = gw.login(f"openid:{unique('two')}", appid=SECOND_APPID)
        assert decode_part(second["access_token"], 1)["appid"] == SECOND_APPID
        first = gw.login(f"openid:{unique('one')}", appid=APPID)
        assert decode_part(first["access_token"], 1)["appid"] == APPID
    finally:
        gw.stop()
        sim.stop()


def closed_port() -> int:
    """A loopback port with nothing listening (bound and released; connections are refused)."""
    port = free_port()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    return port


def test_unreachable_wechat_is_503(tmp_path):
    gw = AuthGateway(tmp_path, api_base=f"http://127.0.0.1:{closed_port()}", apps={APPID: APP_SECRET}).start()
    try:
        status, headers, body = login(gw, {"code": f"openid:{unique()}"})
        assert status == 503 and body["error"] == "temporarily_unavailable", body
        assert header(headers, "Cache-Control") == "no-store"
    finally:
        gw.stop()


def test_wechat_hanging_past_the_timeout_is_503(tmp_path, simulator):
    gw = AuthGateway(tmp_path, simulator, wechat_timeout="1s").start()
    try:
        status, _, body = login(gw, {"code": f"slow:5000-{unique()}"})
        assert status == 503 and body["error"] == "temporarily_unavailable", body
    finally:
        gw.stop()


def test_fourth_quick_login_from_one_address_is_429_with_retry_after(tmp_path, simulator):
    gw = AuthGateway(tmp_path, simulator, auth_per_minute=6, auth_burst=3).start()
    try:
        for _ in range(3):
            gw.login(f"openid:{unique('burst')}")
        status, headers, body = login(gw, {"code": f"openid:{unique('burst')}"})
        assert status == 429, body
        assert int(header(headers, "Retry-After")) >= 1
        assert header(headers, "Cache-Control") == "no-store"
        # The refresh endpoint shares the address's bucket: a scripted loop cannot switch endpoints.
        status, headers, _ = gw.post_form("/auth/token", {"grant_type": "refresh_token", "refresh_token": "x"})
        assert status == 429 and header(headers, "Retry-After")
    finally:
        gw.stop()


def test_rate_limit_behind_a_trusted_proxy_counts_each_forwarded_client(tmp_path, simulator):
    # Behind a load balancer every login comes from its address: one client looping must not lock
    # out everyone else behind it.
    gw = AuthGateway(tmp_path, simulator, auth_per_minute=6, auth_burst=3, trusted_proxies=("127.0.0.1/32",)).start()
    try:
        def login_from(client):
            return gw.post_json(
                "/auth/login", {"code": f"openid:{unique('lb')}"}, {"X-Forwarded-For": f"198.51.100.7, {client}"}
            )

        for _ in range(3):
            assert login_from("203.0.113.1")[0] == 200
        status, headers, _ = login_from("203.0.113.1")
        assert status == 429 and header(headers, "Retry-After")
        assert login_from("203.0.113.2")[0] == 200
    finally:
        gw.stop()


def test_forwarded_for_from_an_untrusted_peer_does_not_buy_a_fresh_bucket(tmp_path, simulator):
    gw = AuthGateway(tmp_path, simulator, auth_per_minute=6, auth_burst=3).start()
    try:
        statuses = [
            gw.post_json("/auth/login", {"code": f"openid:{unique('xff')}"}, {"X-Forwarded-For": f"203.0.113.{i}"})[0]
            for i in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
    finally:
        gw.stop()


@pytest.mark.parametrize("openid", ["alice\r\nX-Admin: 1", "al\tice", "a\x7fb"])
def test_wechat_openid_that_could_not_be_a_header_is_502(gateway, openid):
    # The simulator echoes the openid of a code "openid:<id>"; WeChat's answer then carries a control character.
    status, _, body = login(gateway, {"code": f"openid:{openid}"})
    assert status == 502, body
    assert body["error"] == "temporarily_unavailable"
    assert "X-Admin" not in body["error_description"]
