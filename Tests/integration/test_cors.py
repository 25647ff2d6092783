"""CORS for browser front ends (issue 24 item 3, docs/configuration.md `[cors]`): against the real gateway binary,
the real test upstream (which records every request it gets) and the WebSocket upstream.

The decisions: an allowed origin's answers carry its exact origin and `Vary: Origin`, the gateway's own answers as
well as the upstream's; another origin's answers carry no CORS field (the browser blocks them); a preflight is
answered by the gateway for any path and never forwarded (204 for an allowed origin, 403 without CORS fields for
another); a request without Origin gets no CORS field; the upstream's own `Access-Control-*` fields give way to the
gateway's; `[cors]` is applied on reload; its mistakes are config errors naming the key.
"""
import pytest

from conftest import free_port, run_gateway, wait_for
from gateway_process import Gateway, bearer, headers_named, reload_and_wait, send_raw_expecting_close, unique
from test_websocket import RawTunnel, WsUpstream, upgrade_answer
from tokens import mint

ALLOWED = "https://h5.example.com"
ALSO_ALLOWED = "http://localhost:5173"
OTHER = "https://evil.example.net"

CORS = f"""
[cors]
allow_origins = ["{ALLOWED}", "HTTP://LOCALHOST:5173"]
expose_headers = ["X-Total-Count"]
max_age = "1h"
"""


def routes(upstream_url, ws_url, cors=CORS):
    return cors + f"""
[[routes]]
prefix = "/api/"
upstreams = ["{upstream_url}"]

[[routes]]
prefix = "/open/"
upstreams = ["{upstream_url}"]
auth = "none"

[[routes]]
prefix = "/down/"
upstreams = ["http://127.0.0.1:{free_port()}"]
auth = "none"

[[routes]]
prefix = "/ws/"
upstreams = ["{ws_url}"]
websocket = true
"""


@pytest.fixture(scope="module")
def ws_upstream(tmp_path_factory):
    up = WsUpstream(tmp_path_factory.mktemp("cors-ws-upstream"))
    yield up
    up.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, upstream, ws_upstream):
    gw = Gateway(tmp_path_factory.mktemp("cors"), routes=routes(upstream.url, ws_upstream.url)).start()
    yield gw
    gw.stop()


def cors_fields(headers):
    return {name.lower(): value for name, value in headers if name.lower().startswith("access-control-")}


def vary(headers):
    return [element.strip().lower() for value in headers_named(headers, "Vary") for element in value.split(",")]


def preflight(gw, target, origin, method="PUT", request_headers="authorization, content-type"):
    headers = [("Origin", origin), ("Access-Control-Request-Method", method)]
    if request_headers:
        headers.append(("Access-Control-Request-Headers", request_headers))
    return gw.request("OPTIONS", target, headers)


def test_allowed_origin_reads_a_proxied_answer(gateway, upstream):
    marker = unique("cors-allowed")
    status, headers, body = gateway.request(
        "GET", f"/api/{marker}", [("Origin", ALLOWED), *bearer(mint(unique())).items()])
    assert status == 200, body
    assert headers_named(headers, "Access-Control-Allow-Origin") == [ALLOWED]
    exposed = [name.strip() for name in headers_named(headers, "Access-Control-Expose-Headers")[0].split(",")]
    # The client library reads the gateway's mark, the request id and Retry-After: always exposed.
    assert exposed == ["X-Request-Id", "X-Gateway-Error", "Retry-After", "WWW-Authenticate", "X-Total-Count"]
    # Credentials mode "include" is not needed for a bearer token: off unless asked for.
    assert "access-control-allow-credentials" not in cors_fields(headers)
    assert "origin" in vary(headers)
    assert len(upstream.requests_to(marker)) == 1


def test_origin_written_in_another_case_in_the_config_is_matched_as_browsers_send_it(gateway):
    status, headers, _ = gateway.request("GET", f"/open/{unique()}", [("Origin", ALSO_ALLOWED)])
    assert status == 200
    assert headers_named(headers, "Access-Control-Allow-Origin") == [ALSO_ALLOWED]


def test_disallowed_origin_gets_its_answer_without_any_cors_field(gateway, upstream):
    marker = unique("cors-other")
    status, headers, body = gateway.request(
        "GET", f"/api/{marker}", [("Origin", OTHER), *bearer(mint(unique())).items()])
    assert status == 200, body
    assert cors_fields(headers) == {}
    assert "origin" in vary(headers)
    # Not an access control for non-browser clients: the request went through; the browser hides the answer.
    assert len(upstream.requests_to(marker)) == 1


def test_request_without_origin_gets_no_cors_field(gateway):
    status, headers, _ = gateway.request("GET", f"/api/{unique()}", bearer(mint(unique())))
    assert status == 200
    assert cors_fields(headers) == {}
    # Fetch standard, "CORS protocol and HTTP caches": the answer depends on Origin, so it says so.
    assert vary(headers) == ["origin"]


@pytest.mark.parametrize("path", ["/api/{m}", "/open/{m}", "/nowhere/{m}", "/auth/login", "/down/{m}"])
def test_preflight_from_allowed_origin_is_answered_by_the_gateway_and_never_forwarded(gateway, upstream, path):
    marker = unique("cors-preflight")
    target = path.format(m=marker)
    status, headers, body = preflight(gateway, target, ALLOWED, request_headers="Authorization, Content-Type")
    assert status == 204, body
    assert body == b""
    fields = cors_fields(headers)
    assert fields["access-control-allow-origin"] == ALLOWED
    assert fields["access-control-allow-methods"] == "GET, HEAD, POST, PUT, PATCH, DELETE"
    allowed_headers = [name.strip().lower() for name in fields["access-control-allow-headers"].split(",")]
    assert {"authorization", "content-type"} <= set(allowed_headers)
    assert fields["access-control-max-age"] == "3600"
    assert {"origin", "access-control-request-method", "access-control-request-headers"} <= set(vary(headers))
    assert upstream.requests_to(marker) == [], "a preflight must never reach the upstream"


@pytest.mark.parametrize("hosts", [b"", b"Host: a.example\r\nHost: b.example\r\n"], ids=["no-host", "two-hosts"])
def test_preflight_without_exactly_one_host_is_400_not_204(gateway, hosts):
    # RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request without a Host or with more than
    # one, whatever it is: the head is checked before CORS decides anything.
    raw = (b"OPTIONS /api/x HTTP/1.1\r\n" + hosts + b"Origin: " + ALLOWED.encode()
           + b"\r\nAccess-Control-Request-Method: PUT\r\n\r\n")
    head, closed = send_raw_expecting_close(gateway.port, raw)
    assert head.startswith(b"HTTP/1.1 400"), head[:300]
    assert closed


def test_preflight_keeps_the_connection_and_is_logged_once(gateway, upstream):
    conn = gateway.connection()
    try:
        conn.request("OPTIONS", "/api/orders", headers={"Host": "h", "Origin": ALLOWED,
                                                          "Access-Control-Request-Method": "DELETE"})
        response = conn.getresponse()
        assert response.status == 204
        request_id = response.getheader("X-Request-Id")
        assert response.read() == b""
        marker = unique("cors-after")
        conn.request("GET", f"/open/{marker}", headers={"Host": "h", "Origin": ALLOWED})
        response = conn.getresponse()
        assert response.status == 200
        response.read()
        assert len(upstream.requests_to(marker)) == 1
    finally:
        conn.close()
    lines = wait_for(lambda: [line for line in gateway.access_log() if line.get("request_id") == request_id],
                     what="the preflight's log line")
    assert [(line["status"], line["route"], line["method"]) for line in lines] == [(204, "preflight", "OPTIONS")]


def test_preflight_from_disallowed_origin_is_refused_without_cors_fields_and_not_forwarded(gateway, upstream):
    marker = unique("cors-refused")
    status, headers, body = preflight(gateway, f"/api/{marker}", OTHER)
    assert status == 403, body
    assert cors_fields(headers) == {}
    assert headers_named(headers, "X-Gateway-Error") == ["origin_not_allowed"]
    assert upstream.requests_to(marker) == []


def test_options_without_request_method_is_an_ordinary_request(gateway, upstream):
    marker = unique("cors-options")
    status, headers, _ = gateway.request("OPTIONS", f"/open/{marker}", [("Origin", ALLOWED)])
    assert status == 200
    assert headers_named(headers, "Access-Control-Allow-Origin") == [ALLOWED]
    assert [entry["method"] for entry in upstream.requests_to(marker)] == ["OPTIONS"]


def test_upstream_cors_fields_give_way_to_the_gateways(gateway):
    status, headers, _ = gateway.request("GET", "/open/legacy-cors", [("Origin", ALLOWED)])
    assert status == 200
    fields = cors_fields(headers)
    # The upstream's "*", its credentials, its own exposed list and max-age are gone; the policy's fields stand.
    assert headers_named(headers, "Access-Control-Allow-Origin") == [ALLOWED]
    assert "access-control-allow-credentials" not in fields
    assert "access-control-max-age" not in fields
    assert "X-Legacy" not in fields["access-control-expose-headers"]
    assert headers_named(headers, "X-Legacy") == ["kept"]
    assert vary(headers) == ["accept-encoding", "origin"]

    status, headers, _ = gateway.request("GET", "/open/legacy-cors", [("Origin", OTHER)])
    assert status == 200
    assert cors_fields(headers) == {}, "a legacy service must not widen the policy"


def test_gateways_own_answers_carry_the_allowed_origin(gateway):
    origin = [("Origin", ALLOWED)]
    answers = {
        "401 no token": gateway.request("GET", f"/api/{unique()}", origin),
        "401 bad token": gateway.request("GET", f"/api/{unique()}", origin + [("Authorization", "Bearer nope.x.y")]),
        "404 no route": gateway.request("GET", f"/nowhere/{unique()}", origin),
        "502 upstream down": gateway.request("GET", f"/down/{unique()}", origin),
        "400 login": gateway.request("POST", "/auth/login", origin + [("Content-Type", "application/json")], b"{}"),
        "jwks": gateway.request("GET", "/.well-known/jwks.json", origin),
    }
    statuses = {what: answer[0] for what, answer in answers.items()}
    assert statuses == {"401 no token": 401, "401 bad token": 401, "404 no route": 404, "502 upstream down": 502,
                        "400 login": 400, "jwks": 200}
    for what, (_, headers, _) in answers.items():
        assert headers_named(headers, "Access-Control-Allow-Origin") == [ALLOWED], what
        assert "X-Gateway-Error" in headers_named(headers, "Access-Control-Expose-Headers")[0], what
        assert "origin" in vary(headers), what


def test_websocket_upgrades_are_not_checked_against_origins_unless_asked(gateway):
    tunnel = RawTunnel(gateway, "/ws/echo", mint(unique()), headers=[("Origin", OTHER)])
    tunnel.close()


def test_reload_changes_the_allowed_origins(tmp_path, upstream, ws_upstream):
    gw = Gateway(tmp_path, routes=routes(upstream.url, ws_upstream.url)).start()
    try:
        assert preflight(gw, "/api/x", ALLOWED)[0] == 204
        assert preflight(gw, "/api/x", OTHER)[0] == 403
        text = gw.config.read_text()
        gw.config.write_text(text.replace(
            f'allow_origins = ["{ALLOWED}", "HTTP://LOCALHOST:5173"]', f'allow_origins = ["{OTHER}"]'))
        reload_and_wait(gw, "success")
        status, headers, _ = preflight(gw, "/api/x", OTHER)
        assert status == 204
        assert headers_named(headers, "Access-Control-Allow-Origin") == [OTHER]
        status, headers, _ = preflight(gw, "/api/x", ALLOWED)
        assert status == 403
        assert cors_fields(headers) == {}
        status, headers, _ = gw.request("GET", f"/open/{unique()}", [("Origin", ALLOWED)])
        assert status == 200
        assert cors_fields(headers) == {}
    finally:
        gw.stop()


def test_without_a_cors_section_the_gateway_leaves_cors_to_the_upstream(tmp_path, upstream, ws_upstream):
    gw = Gateway(tmp_path, routes=routes(upstream.url, ws_upstream.url, cors="")).start()
    try:
        marker = unique("cors-off")
        status, _, _ = preflight(gw, f"/open/{marker}", ALLOWED)
        assert status == 200
        assert [entry["method"] for entry in upstream.requests_to(marker)] == ["OPTIONS"]
        status, headers, _ = gw.request("GET", "/open/legacy-cors", [("Origin", ALLOWED)])
        assert headers_named(headers, "Access-Control-Allow-Origin") == ["*"]
        assert vary(headers) == ["accept-encoding"]
    finally:
        gw.stop()


def test_websocket_upgrade_from_disallowed_origin_is_refused_when_asked(tmp_path, upstream, ws_upstream):
    cors = CORS.replace("[cors]\n", "[cors]\ncheck_websocket_origin = true\n")
    gw = Gateway(tmp_path, routes=routes(upstream.url, ws_upstream.url, cors=cors)).start()
    try:
        before = ws_upstream.contacts()
        status, headers, _, _ = upgrade_answer(
            gw, "/ws/echo", [("Origin", OTHER), ("Authorization", f"Bearer {mint(unique())}")])
        assert status == 403
        assert headers_named(headers, "X-Gateway-Error") == ["origin_not_allowed"]
        assert ws_upstream.contacts() == before, "a refused upgrade must not open an upstream connection"
        RawTunnel(gw, "/ws/echo", mint(unique()), headers=[("Origin", ALLOWED)]).close()
        RawTunnel(gw, "/ws/echo", mint(unique())).close()  # no Origin: a mini-program or a native client
    finally:
        gw.stop()


def test_cors_mistakes_are_config_errors_naming_the_key(gateway_bin, tmp_path):
    conf = tmp_path / "cors.conf"
    conf.write_text(
        """
[server]
listen = "127.0.0.1:8080"

[[wechat.apps]]
appid = "wx0000000000000001"
secret = "dev-secret"

[tokens]
secret = "0123456789abcdef0123456789abcdef"

[cors]
allow_origins = ["*", "null", "https://h5.example.com/", "h5.example.com", "ftp://files.example.com",
                 "https://user@h5.example.com", "https://h5.example.com:99999", "https://ok.example.com"]
allow_headers = ["*", "X Bad"]
expose_headers = ["X-Total-Count", "*"]
max_age = "48h"
allow_credential = true

[[routes]]
prefix = "/api/"
upstreams = ["http://127.0.0.1:9001"]
"""
    )
    result = run_gateway("check", "--config", str(conf))
    assert result.returncode == 1
    out = result.stderr
    for fragment in [
        'cors.allow_origins[0]: "*" is refused: the gateway\'s answers are credentialed',
        'cors.allow_origins[1]: "null" is refused',
        'cors.allow_origins[2]: "https://h5.example.com/" is not an origin: an origin has no path',
        'cors.allow_origins[3]: "h5.example.com" is not an origin',
        'cors.allow_origins[4]: "ftp://files.example.com" is not an origin: the scheme must be http or https',
        'cors.allow_origins[5]: "https://user@h5.example.com" is not an origin: an origin has no user information',
        'cors.allow_origins[6]: "https://h5.example.com:99999" is not an origin',
        'cors.allow_headers[0]: "*" is refused',
        'cors.allow_headers[1]: "X Bad" is not a header name',
        'cors.expose_headers[1]: "*" is refused',
        "cors.max_age: must be between 0 and 24h",
        "cors.allow_credential: unknown key",
    ]:
        assert fragment in out, f"missing '{fragment}' in:\n{out}"
    assert "allow_origins[7]" not in out


def test_cors_section_without_origins_is_a_config_error(gateway_bin, tmp_path):
    conf = tmp_path / "cors-empty.conf"
    conf.write_text(
        """
[[wechat.apps]]
appid = "wx0000000000000001"
secret = "dev-secret"

[tokens]
secret = "0123456789abcdef0123456789abcdef"

[cors]
max_age = "10m"
"""
    )
    result = run_gateway("check", "--config", str(conf))
    assert result.returncode == 1
    assert "cors.allow_origins: is required" in result.stderr
