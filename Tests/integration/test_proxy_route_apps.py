"""Routes per app (docs/configuration.md, `apps` on a route): one gateway serving two mini-programs, app A's
token refused on app B's route with 403 `insufficient_scope` (RFC 6750 section 3.1) before any upstream
connection, app B's token forwarded; the same for a WebSocket route; an unknown appid is a config error.
"""
import pytest

from conftest import run_gateway
from gateway_process import Gateway, bearer, headers_named, reload_and_wait, replace_routes, unique
from test_websocket import WsUpstream, header, upgrade_answer
from tokens import APPID, ISSUER, mint

APP_B = "wx00000000000000b2"
CHALLENGE = f'Bearer realm="{ISSUER}", error="insufficient_scope"'

SECOND_APP = f"""
[[wechat.apps]]
appid = "{APP_B}"
secret = "integration-app-b-secret"
"""


@pytest.fixture(scope="module")
def ws_upstream(tmp_path_factory):
    up = WsUpstream(tmp_path_factory.mktemp("apps-ws-upstream"))
    yield up
    up.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, upstream, ws_upstream):
    gw = Gateway(
        tmp_path_factory.mktemp("route-apps"),
        routes=SECOND_APP + f"""
        [[routes]]
        prefix = "/b-only/"
        upstreams = ["{upstream.url}"]
        apps = ["{APP_B}"]

        [[routes]]
        prefix = "/b-maybe/"
        upstreams = ["{upstream.url}"]
        auth = "optional"
        apps = ["{APP_B}"]

        [[routes]]
        prefix = "/any/"
        upstreams = ["{upstream.url}"]

        [[routes]]
        prefix = "/ws-b/"
        upstreams = ["{ws_upstream.url}"]
        websocket = true
        apps = ["{APP_B}"]
        """,
    ).start()
    yield gw
    gw.stop()


def test_token_of_another_app_is_403_insufficient_scope_and_never_reaches_the_upstream(gateway, upstream):
    marker = unique("apps-a")
    status, headers, body = gateway.request("GET", f"/b-only/{marker}", bearer(mint(unique(), appid=APPID)))
    assert status == 403, body
    assert headers_named(headers, "WWW-Authenticate") == [CHALLENGE]
    assert headers_named(headers, "X-Gateway-Error") == ["insufficient_scope"]
    assert upstream.requests_to(marker) == [], "a refused request must never reach the upstream"


def test_token_of_the_listed_app_is_forwarded(gateway, upstream):
    marker = unique("apps-b")
    status, _, body = gateway.request("GET", f"/b-only/{marker}", bearer(mint(unique(), appid=APP_B)))
    assert status == 200, body
    assert len(upstream.requests_to(marker)) == 1


def test_route_without_apps_takes_every_configured_app(gateway):
    for appid in (APPID, APP_B):
        status, _, body = gateway.request("GET", f"/any/{unique()}", bearer(mint(unique(), appid=appid)))
        assert status == 200, body


def test_optional_route_lets_anonymous_through_but_refuses_another_app(gateway, upstream):
    anonymous = unique("apps-anon")
    status, _, _ = gateway.request("GET", f"/b-maybe/{anonymous}")
    assert status == 200
    assert len(upstream.requests_to(anonymous)) == 1

    other = unique("apps-opt-a")
    status, headers, _ = gateway.request("GET", f"/b-maybe/{other}", bearer(mint(unique(), appid=APPID)))
    assert status == 403
    assert headers_named(headers, "WWW-Authenticate") == [CHALLENGE]
    assert upstream.requests_to(other) == []


def test_websocket_upgrade_of_another_app_is_403_before_any_upstream_connection(gateway, ws_upstream):
    before = ws_upstream.contacts()
    status, headers, _, _ = upgrade_answer(
        gateway, "/ws-b/echo", [("Authorization", f"Bearer {mint(unique(), appid=APPID)}")])
    assert status == 403
    assert header(headers, "WWW-Authenticate") == CHALLENGE
    assert header(headers, "X-Gateway-Error") == "insufficient_scope"
    assert ws_upstream.contacts() == before, "a refused upgrade must not open an upstream connection"


def test_apps_are_applied_on_reload(tmp_path, upstream):
    gw = Gateway(tmp_path, routes=SECOND_APP + f"""
        [[routes]]
        prefix = "/r/"
        upstreams = ["{upstream.url}"]
        """).start()
    try:
        token_a = bearer(mint(unique(), appid=APPID))
        assert gw.request("GET", f"/r/{unique()}", token_a)[0] == 200
        # The head it keeps (everything before the first [[routes]]) already holds the second app.
        replace_routes(gw, f"""
        [[routes]]
        prefix = "/r/"
        upstreams = ["{upstream.url}"]
        apps = ["{APP_B}"]
        """)
        reload_and_wait(gw, "success")
        assert gw.request("GET", f"/r/{unique()}", token_a)[0] == 403
        assert gw.request("GET", f"/r/{unique()}", bearer(mint(unique(), appid=APP_B)))[0] == 200
    finally:
        gw.stop()


def test_unknown_appid_in_apps_is_a_check_error_naming_the_key(gateway_bin, tmp_path):
    conf = tmp_path / "apps.conf"
    conf.write_text(
        f"""
[server]
listen = "127.0.0.1:8080"

[[wechat.apps]]
appid = "{APPID}"
secret = "integration-app-secret"

[tokens]
secret = "0123456789abcdef0123456789abcdef"

[[routes]]
prefix = "/api/"
upstreams = ["http://127.0.0.1:9001"]
apps = ["{APPID}", "wx-not-configured"]
"""
    )
    result = run_gateway("check", "--config", str(conf))
    assert result.returncode == 1
    assert "routes[0].apps" in result.stderr and "wx-not-configured" in result.stderr, result.stderr
