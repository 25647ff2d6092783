"""Proxied requests: routing, what is forwarded byte-for-byte, what is rewritten, what comes back.

docs/configuration.md, "Matching", and README.md, "What the upstream receives". Two echo upstreams tell
by their name which route a request took.
"""
import gzip
import http.client
import json
import os
import socket
import uuid

import pytest

from conftest import free_port, wait_for
from gateway_process import Gateway, bearer, headers_named, send_raw_expecting_close, unique
from tokens import mint
from upstream import CHUNKED_BODY, GZIP_PLAIN, SSE_FIRST, SSE_SECOND, Upstream, header_values


@pytest.fixture(scope="module")
def upstreams():
    main, other = Upstream("main"), Upstream("other")
    yield main, other
    main.stop()
    other.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, upstreams):
    main, other = upstreams
    gw = Gateway(
        tmp_path_factory.mktemp("proxy-forwarding"),
        routes=f"""
        [[routes]]
        prefix = "/api/"
        upstreams = ["{main.url}"]
        auth = "required"

        [[routes]]
        prefix = "/api/v2/"
        upstreams = ["{other.url}"]
        auth = "required"

        [[routes]]
        prefix = "/strip/"
        upstreams = ["{main.url}"]
        auth = "none"
        strip_prefix = true

        [[routes]]
        prefix = "/hosted/"
        upstreams = ["{other.url}"]
        auth = "none"
        host = "tenant.example"

        [[routes]]
        prefix = "/hosted/"
        upstreams = ["{main.url}"]
        auth = "none"

        [[routes]]
        prefix = "/readonly/"
        upstreams = ["{main.url}"]
        auth = "none"
        methods = ["GET", "HEAD"]

        [[routes]]
        prefix = "/public/"
        upstreams = ["{main.url}"]
        auth = "none"

        [[routes]]
        prefix = "/private/"
        upstreams = ["{other.url}"]
        auth = "required"

        [[routes]]
        prefix = "/events/"
        upstreams = ["{main.url}"]
        auth = "none"
        timeout = "0"
        """,
    ).start()
    yield gw
    gw.stop()


@pytest.fixture
def auth():
    return bearer(mint(unique()))


# -- method, path and query byte-for-byte -----------------------------------------------------------

ODD_TARGETS = [
    "/api/plain",
    "/api/a%20b/c;matrix=1/%2F/x%2fy",
    "/api/~user/!$&'()*+,;=:@/end",
    "/api/items?x=1&x=2&x=3",
    "/api/q?a=%2F&b=a+b&c=%20&empty=&flag&u=%E4%B8%AD&sym=!$'()*,;:@/?",
    "/api/trailing/",
    "/api/%25%41%2e",
]


@pytest.mark.parametrize("target", ODD_TARGETS)
def test_path_and_query_reach_the_upstream_byte_for_byte(gateway, auth, target):
    status, _, echo = gateway.get_json(target, auth)
    assert status == 200
    assert echo["target"] == target


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_method_reaches_the_upstream_unchanged(gateway, auth, method):
    body = b'{"k": "v"}' if method in ("POST", "PUT", "PATCH") else None
    status, _, raw = gateway.request(method, "/api/method?m=" + method, auth, body=body)
    assert status == 200
    echo = json.loads(raw)
    assert echo["method"] == method
    assert echo["target"] == "/api/method?m=" + method
    if body is not None:
        assert echo["body"] == body.decode()


def test_strip_prefix_removes_the_route_prefix_only(gateway):
    status, _, echo = gateway.get_json("/strip/inner/path?strip=/strip/")
    assert status == 200
    assert echo["target"] == "/inner/path?strip=/strip/"


def test_strip_prefix_of_the_bare_prefix_gives_root(gateway):
    status, _, echo = gateway.get_json("/strip/")
    assert status == 200
    assert echo["target"] == "/"


# -- routing ----------------------------------------------------------------------------------------


def test_longest_prefix_wins(gateway, auth):
    assert gateway.get_json("/api/v2/thing", auth)[2]["upstream"] == "other"
    assert gateway.get_json("/api/v1/thing", auth)[2]["upstream"] == "main"
    assert gateway.get_json("/api/v2x", auth)[2]["upstream"] == "main"


def test_prefix_with_trailing_slash_matches_the_path_without_it(gateway, auth):
    status, _, echo = gateway.get_json("/api/v2", auth)
    assert status == 200
    assert echo["upstream"] == "other"
    assert echo["target"] == "/api/v2"


def test_host_narrows_a_route(gateway):
    status, _, echo = gateway.get_json("/hosted/x", {"Host": "tenant.example"})
    assert status == 200 and echo["upstream"] == "other"
    status, _, echo = gateway.get_json("/hosted/x", {"Host": "tenant.example:8443"})
    assert status == 200 and echo["upstream"] == "other"
    status, _, echo = gateway.get_json("/hosted/x", {"Host": "Tenant.EXAMPLE"})
    assert status == 200 and echo["upstream"] == "other", "host names are case-insensitive"
    status, _, echo = gateway.get_json("/hosted/x", {"Host": "elsewhere.example"})
    assert status == 200 and echo["upstream"] == "main"


def test_methods_narrow_a_route(gateway):
    assert gateway.request("GET", "/readonly/x")[0] == 200
    status, headers, body = gateway.request("POST", "/readonly/x", body=b"{}")
    assert status in (404, 405)
    assert "error" in json.loads(body)


def test_no_matching_route_is_404_json_with_error_and_request_id(gateway):
    status, headers, body = gateway.request("GET", "/nowhere/at/all")
    assert status == 404
    assert headers_named(headers, "Content-Type")[0].startswith("application/json")
    answer = json.loads(body)
    assert answer["error"]
    assert answer["request_id"]
    assert headers_named(headers, "X-Request-Id") == [answer["request_id"]]


@pytest.mark.parametrize(
    "target",
    ["/public/../private/secret", "/public/x/../../private/secret", "/public/..", "/public/%2e%2e/private/secret",
     "/public/%2E%2E/private/secret", "/public/.%2e/private/secret"],
)
def test_dot_segment_paths_are_rejected(gateway, upstreams, target):
    status, headers, body = gateway.request("GET", target)
    assert status == 400
    assert "error" in json.loads(body)
    assert all(not r["target"].startswith("/public/") or ".." not in r["target"] and "%2e" not in r["target"].lower()
               for up in upstreams for r in up.requests_to("/public/"))


@pytest.mark.parametrize(
    "target",
    # U+0301 (a combining mark) after a slash, U+0600 (a prepended mark) before one: RequestTarget once split
    # non-ASCII paths by Character and missed these dot segments. The parser refuses raw non-ASCII bytes in a target
    # before that check; these pin that the whole way stays closed.
    [b"/public/../\xcc\x81private/secret", b"/public\xd8\x80/../private/secret", b"/public/x/../\xcc\x81/"],
)
def test_dot_segments_beside_non_ascii_marks_are_rejected(gateway, upstreams, target):
    head, _ = send_raw_expecting_close(
        gateway.port, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert not any(".." in r["target"] for up in upstreams for r in up.requests)


def test_encoded_nul_in_the_path_is_rejected(gateway, upstreams):
    # nginx answers 400 too: an upstream in C, or one handing the decoded path to the file system, stops at the NUL.
    status, _, body = gateway.request("GET", "/public/report.pdf%00.jpg")
    assert status == 400 and json.loads(body)["error"] == "invalid_request_target"
    assert not any("%00" in r["target"] for up in upstreams for r in up.requests)


def test_every_answer_is_dated_once(gateway):
    # RFC 9110 section 6.6.1: the gateway dates its own answers and adds a Date an upstream left out, as nginx does;
    # an upstream's own Date is passed on, not doubled.
    for method, target, status in [("GET", "/public/undated", 200), ("GET", "/public/echo", 200),
                                   ("GET", "/nowhere", 404), ("GET", "/api/x", 401), ("POST", "/auth/login", 400)]:
        body = b"{}" if method == "POST" else None
        got, answer_headers, _ = gateway.request(method, target, {"Content-Type": "application/json"}, body)
        assert got == status, target
        dates = headers_named(answer_headers, "Date")
        assert len(dates) == 1 and dates[0].endswith(" GMT"), (target, dates)
    admin = http.client.HTTPConnection("127.0.0.1", gateway.admin_port, timeout=10)
    try:
        admin.request("GET", "/healthz")
        assert len(admin.getresponse().headers.get_all("Date")) == 1
    finally:
        admin.close()


def test_dot_segments_in_the_query_are_not_path_traversal(gateway):
    status, _, echo = gateway.get_json("/public/x?path=../private/y")
    assert status == 200
    assert echo["target"] == "/public/x?path=../private/y"


# -- rewritten headers ------------------------------------------------------------------------------


def test_hop_by_hop_request_headers_are_removed(gateway, auth):
    headers = dict(auth)
    headers.update({
        "Connection": "keep-alive, X-Custom-Hop",
        "X-Custom-Hop": "hop-value",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
        "Trailer": "X-Trailer",
        "Proxy-Connection": "keep-alive",
        "Proxy-Authorization": "Basic c2VjcmV0",
        "X-End-To-End": "kept",
    })
    status, _, echo = gateway.get_json("/api/hop-request", headers)
    assert status == 200
    names = {name.lower() for name, _ in echo["headers"]}
    for hop in ["x-custom-hop", "keep-alive", "te", "trailer", "proxy-connection", "proxy-authorization"]:
        assert hop not in names, hop
    assert "hop-value" not in str(echo["headers"])
    assert header_values(echo, "X-End-To-End") == ["kept"]


def test_hop_by_hop_response_headers_are_removed(gateway):
    status, headers, _ = gateway.request("GET", "/public/hop")
    assert status == 200
    names = {name.lower() for name, _ in headers}
    for hop in ["x-hop-custom", "keep-alive", "proxy-connection"]:
        assert hop not in names, hop
    assert headers_named(headers, "X-End-To-End") == ["kept"]


def test_repeated_request_headers_reach_the_upstream_in_order(gateway, auth):
    headers = list(auth.items()) + [("X-Multi", "one"), ("Accept", "text/plain"), ("X-Multi", "two"),
                                    ("X-Multi", "three")]
    status, _, echo = gateway.get_json("/api/multi", headers)
    assert status == 200
    assert header_values(echo, "X-Multi") == ["one", "two", "three"]


def test_non_ascii_header_bytes_are_forwarded_unchanged(gateway):
    conn = gateway.connection()
    try:
        conn.putrequest("GET", "/public/bytes")
        conn.putheader("X-Utf8", "caf\u00c3\u00a9 \u00e4\u00b8\u00ad".encode("latin-1"))  # UTF-8 bytes of "café 中"
        conn.endheaders()
        response = conn.getresponse()
        assert response.status == 200
        echo = json.loads(response.read())
    finally:
        conn.close()
    assert [v.encode("latin-1") for v in header_values(echo, "X-Utf8")] == ["café 中".encode()]


def test_forwarded_headers_are_set_and_client_copies_not_trusted(gateway, auth):
    headers = dict(auth)
    headers.update({"Host": "app.example:8443", "X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https",
                    "X-Forwarded-Host": "evil.example"})
    status, _, echo = gateway.get_json("/api/fwd", headers)
    assert status == 200
    assert header_values(echo, "X-Forwarded-For") == ["127.0.0.1"]
    assert header_values(echo, "X-Forwarded-Proto") == ["http"]
    assert header_values(echo, "X-Forwarded-Host") == ["app.example:8443"]


@pytest.fixture(scope="module")
def behind_trusted_proxy(tmp_path_factory, upstreams):
    main, _ = upstreams
    gw = Gateway(
        tmp_path_factory.mktemp("proxy-trusted"),
        server='trusted_proxies = ["127.0.0.0/8"]\n',
        routes=f"""
        [[routes]]
        prefix = "/"
        upstreams = ["{main.url}"]
        auth = "none"
        """,
    ).start()
    yield gw
    gw.stop()


def test_forwarded_for_from_a_trusted_proxy_is_kept_and_appended_to(behind_trusted_proxy):
    headers = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1", "X-Forwarded-Proto": "https", "Host": "inner:1"}
    status, _, echo = behind_trusted_proxy.get_json("/trusted", headers)
    assert status == 200
    assert header_values(echo, "X-Forwarded-For") == ["203.0.113.7, 10.0.0.1, 127.0.0.1"]
    assert header_values(echo, "X-Forwarded-Proto") == ["https"]


def test_proxy_variables_in_the_environment_do_not_redirect_upstream_traffic(tmp_path, upstreams):
    # A host's http_proxy (set for apt or curl) must not send a reverse proxy's upstream requests elsewhere:
    # upstreams are reached as gateway.conf names them, as nginx and HAProxy do.
    main, _ = upstreams
    nowhere = f"http://127.0.0.1:{free_port()}"
    gw = Gateway(
        tmp_path,
        routes=f"""
        [[routes]]
        prefix = "/"
        upstreams = ["{main.url}"]
        auth = "none"
        """,
    )
    gw.env = {**os.environ, **{name: nowhere for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")}}
    gw.start()
    try:
        status, _, echo = gw.get_json("/through-no-proxy")
        assert status == 200
        assert echo["target"] == "/through-no-proxy"
    finally:
        gw.stop()


def test_client_request_id_is_passed_through_and_returned(gateway, auth):
    request_id = "client-" + uuid.uuid4().hex
    headers = dict(auth)
    headers["X-Request-Id"] = request_id
    status, response_headers, raw = gateway.request("GET", "/api/rid", headers)
    assert status == 200
    assert header_values(json.loads(raw), "X-Request-Id") == [request_id]
    assert headers_named(response_headers, "X-Request-Id") == [request_id]


def test_request_id_is_generated_when_absent(gateway, auth):
    seen = []
    for _ in range(3):
        status, response_headers, raw = gateway.request("GET", "/api/rid", auth)
        assert status == 200
        upstream_ids = header_values(json.loads(raw), "X-Request-Id")
        assert len(upstream_ids) == 1 and upstream_ids[0]
        assert headers_named(response_headers, "X-Request-Id") == upstream_ids
        seen.append(upstream_ids[0])
    assert len(set(seen)) == 3


def test_rejections_carry_a_request_id_too(gateway):
    status, headers, body = gateway.request("GET", "/api/x")
    assert status == 401
    assert headers_named(headers, "X-Request-Id")


# -- the response comes back unchanged ---------------------------------------------------------------


def test_two_set_cookie_headers_are_kept_apart(gateway):
    status, headers, _ = gateway.request("GET", "/public/cookies")
    assert status == 200
    assert headers_named(headers, "Set-Cookie") == ["a=1; Path=/", "b=2; Path=/; HttpOnly"]


def test_chunked_upstream_response_arrives_intact(gateway):
    status, _, body = gateway.request("GET", "/public/chunked")
    assert status == 200
    assert body == CHUNKED_BODY


@pytest.mark.parametrize("status_code", [400, 404, 500, 503])
def test_upstream_error_statuses_come_back_unchanged(gateway, status_code):
    status, headers, body = gateway.request("GET", f"/public/status/{status_code}")
    assert status == status_code
    assert body == f"upstream said {status_code}".encode()
    assert headers_named(headers, "Content-Type") == ["text/plain"]


def test_close_delimited_upstream_body_arrives_intact(gateway):
    conn = gateway.connection()
    try:
        conn.request("GET", "/public/close-delimited")
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == CHUNKED_BODY
        # the upstream's Connection: close is hop-by-hop; the client connection may stay open
        conn.request("GET", "/public/after-close-delimited")
        after = conn.getresponse()
        assert after.status == 200
        after.read()
    finally:
        conn.close()


def test_redirects_are_passed_back_not_followed(gateway):
    status, headers, _ = gateway.request("GET", "/public/redirect")
    assert status == 302
    assert headers_named(headers, "Location") == ["/elsewhere"]


def test_compressed_body_is_not_decoded(gateway):
    status, headers, body = gateway.request("GET", "/public/gzip", {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers_named(headers, "Content-Encoding") == ["gzip"]
    assert gzip.decompress(body) == GZIP_PLAIN


def test_head_answers_headers_without_a_body(gateway, auth):
    conn = gateway.connection()
    try:
        conn.request("GET", "/public/cookies", headers=auth)
        get = conn.getresponse()
        get_body = get.read()
        conn.request("HEAD", "/public/cookies", headers=auth)
        head = conn.getresponse()
        assert head.status == 200
        assert head.read() == b""
        assert head.getheader("Content-Length") == str(len(get_body))
        assert len(head.headers.get_all("Set-Cookie")) == 2
        # the connection is still in step: no stray body bytes were sent after the HEAD answer
        conn.request("GET", "/api/after-head", headers=auth)
        after = conn.getresponse()
        assert after.status == 200
        assert json.loads(after.read())["target"] == "/api/after-head"
    finally:
        conn.close()


@pytest.mark.parametrize("status_code", [204, 304])
def test_bodyless_statuses_pass_through_and_keep_the_connection_usable(gateway, status_code):
    conn = gateway.connection()
    try:
        conn.request("GET", f"/public/status/{status_code}")
        response = conn.getresponse()
        assert response.status == status_code
        assert response.read() == b""
        if status_code == 304:
            assert response.getheader("ETag") == '"v1"'
        conn.request("GET", "/public/next")
        after = conn.getresponse()
        assert after.status == 200
        assert json.loads(after.read())["target"] == "/public/next"
    finally:
        conn.close()


def read_first_event(response):
    """Reads a server-sent-event stream up to the end of its first event, without waiting for more."""
    first = b""
    while not first.endswith(b"\n\n"):
        piece = response.read1(4096)
        assert piece, "stream ended before the first event"
        first += piece
    return first


def test_server_sent_events_arrive_as_produced(gateway, upstreams):
    main, _ = upstreams
    gate = uuid.uuid4().hex
    conn = gateway.connection(timeout=30)
    try:
        conn.request("GET", f"/events/sse?gate={gate}", headers={"Accept": "text/event-stream"})
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/event-stream"
        # the upstream has not sent the second event yet; it only does once we release it
        assert read_first_event(response) == SSE_FIRST
        main.release(gate)
        assert response.read() == SSE_SECOND
    finally:
        main.release(gate)
        conn.close()


# -- connections ------------------------------------------------------------------------------------


def test_several_requests_share_one_keep_alive_connection(gateway, auth):
    conn = gateway.connection()
    try:
        conn.request("GET", "/api/ka/0", headers=auth)
        first = conn.getresponse()
        assert first.status == 200
        first.read()
        sock = conn.sock
        for i in range(1, 6):
            conn.request("POST" if i % 2 else "GET", f"/api/ka/{i}", body=b"x" * i if i % 2 else None, headers=auth)
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["target"] == f"/api/ka/{i}"
            assert conn.sock is sock, "the gateway closed a keep-alive connection"
    finally:
        conn.close()


def test_connection_stays_usable_after_gateway_answers(gateway, auth):
    conn = gateway.connection()
    try:
        conn.request("GET", "/api/needs-token")
        response = conn.getresponse()
        assert response.status == 401
        response.read()
        conn.request("GET", "/nowhere")
        response = conn.getresponse()
        assert response.status == 404
        response.read()
        conn.request("GET", "/api/after-errors", headers=auth)
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["target"] == "/api/after-errors"
    finally:
        conn.close()


@pytest.mark.parametrize("target,expected", [("/api/needs-token", 401), ("/nowhere", 404)])
def test_unread_request_body_of_a_gateway_answer_is_not_parsed_as_the_next_request(gateway, auth, target, expected):
    smuggled = b"GET /public/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    body = smuggled + b"z" * 2000
    conn = gateway.connection()
    try:
        conn.request("POST", target, body=body, headers={"Content-Type": "text/plain"})
        response = conn.getresponse()
        assert response.status == expected
        response.read()
        if response.will_close:
            return  # closing instead of draining is also correct
        conn.request("GET", "/api/after-body", headers=auth)
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["target"] == "/api/after-body"
    finally:
        conn.close()


@pytest.mark.parametrize("target,expected", [("/api/needs-token", 401), ("/nowhere", 404), ("/public/cookies", 200)])
def test_head_answers_never_carry_a_body(gateway, target, expected):
    conn = gateway.connection()
    try:
        conn.request("HEAD", target)
        response = conn.getresponse()
        assert response.status == expected
        assert response.read() == b""
        conn.request("GET", "/public/after-head")
        response = conn.getresponse()
        assert response.status == 200, "bytes after the HEAD answer desynchronised the connection"
        assert json.loads(response.read())["target"] == "/public/after-head"
    finally:
        conn.close()


def test_connection_close_from_the_client_is_honoured(gateway):
    head, closed = send_raw_expecting_close(
        gateway.port, b"GET /public/bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert closed is not False


def test_pipelined_requests_are_answered_in_order(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(b"".join(f"GET /public/pipe/{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for i in range(3)))
        reader = sock.makefile("rb")
        for i in range(3):
            response = http.client.HTTPResponse(sock)
            response.fp = reader
            response._close_conn = lambda r=response: setattr(r, "fp", None)  # keep the shared reader open
            response.begin()
            assert response.status == 200
            assert json.loads(response.read())["target"] == f"/public/pipe/{i}"


class PipelinedResponses:
    """Reads responses one after another from a socket that pipelined several requests."""

    def __init__(self, sock):
        self.sock = sock
        self.reader = sock.makefile("rb")

    def next(self):
        response = http.client.HTTPResponse(self.sock)
        response.fp = self.reader
        response._close_conn = lambda r=response: setattr(r, "fp", None)  # keep the shared reader open
        response.begin()
        return response


def test_pipelined_local_answers_and_bodies_are_answered_in_order(gateway):
    requests = [
        b"GET /public/pipe/0 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/needs-token HTTP/1.1\r\nHost: x\r\n\r\n",  # answered by the gateway itself (401)
        b"POST /public/pipe/2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n",  # no route (404)
        b"PUT /public/pipe/4 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"GET /public/pipe/5 HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(b"".join(requests))
        responses = PipelinedResponses(sock)
        statuses, bodies = [], []
        for _ in requests:
            response = responses.next()
            statuses.append(response.status)
            bodies.append(response.read())
        assert statuses == [200, 401, 200, 404, 200, 200]
        echoed = {i: json.loads(bodies[i]) for i in (0, 2, 4, 5)}
        assert [echoed[i]["target"] for i in (0, 2, 4, 5)] == ["/public/pipe/0", "/public/pipe/2", "/public/pipe/4", "/public/pipe/5"]
        assert echoed[2]["body"] == "hello" and echoed[4]["body"] == "abc"


def test_pipelined_control_endpoint_answers_keep_their_place(gateway):
    # Control endpoints answer asynchronously (a task on the engine, an await on NIO): a request pipelined after one
    # still waits for its answer, so the answers come back in the order asked, chunked bodies included.
    requests = [
        b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /public/pipe/1 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        b"POST /public/pipe/3 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\nX-Request-Id: pipelined-jwks\r\n\r\n",
    ]
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(b"".join(requests))
        responses = PipelinedResponses(sock)
        answers = []
        for _ in requests:
            response = responses.next()
            answers.append((response.status, response.getheader("X-Request-Id"), response.read()))
        assert [status for status, _, _ in answers] == [200, 200, 400, 200, 200]
        assert b'"keys"' in answers[0][2] and answers[4][1] == "pipelined-jwks"
        assert json.loads(answers[1][2])["target"] == "/public/pipe/1"
        assert json.loads(answers[2][2])["error"] == "invalid_request"
        assert json.loads(answers[3][2])["body"] == "hello"


def test_many_pipelined_requests_in_one_write_are_all_answered_in_order(gateway):
    count = 300
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(b"".join(f"GET /public/many/{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for i in range(count)))
        responses = PipelinedResponses(sock)
        for i in range(count):
            response = responses.next()
            assert response.status == 200
            assert json.loads(response.read())["target"] == f"/public/many/{i}"


def test_pipelined_request_waits_for_a_streaming_answer_before_it(gateway, upstreams):
    main, _ = upstreams
    gate = uuid.uuid4().hex
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(f"GET /events/sse?gate={gate} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            + b"GET /public/after-stream HTTP/1.1\r\nHost: x\r\n\r\n")
        responses = PipelinedResponses(sock)
        try:
            stream = responses.next()
            assert read_first_event(stream) == SSE_FIRST
        finally:
            main.release(gate)
        assert stream.read() == SSE_SECOND
        after = responses.next()
        assert after.status == 200
        assert json.loads(after.read())["target"] == "/public/after-stream"


def test_garbage_after_a_pipelined_request_is_400_after_that_request_is_answered(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(b"GET /public/before-garbage HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n")
        responses = PipelinedResponses(sock)
        first = responses.next()
        assert first.status == 200
        assert json.loads(first.read())["target"] == "/public/before-garbage"
        second = responses.next()
        assert second.status == 400
        assert json.loads(second.read())["error"] == "bad_request"
        assert sock.recv(1) == b"", "the gateway must close the connection after a malformed request"


def test_http_1_0_request_is_answered_and_closed(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(b"GET /public/old HTTP/1.0\r\nHost: x\r\n\r\n")
        received = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            received += piece
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"200"
    assert json.loads(body)["target"] == "/public/old"


@pytest.mark.parametrize(
    "request_line",
    [b"GARBAGE\r\n\r\n", b"GET /api/x HTTP/9.9 extra\r\n\r\n", b"GET\x00 / HTTP/1.1\r\nHost: x\r\n\r\n",
     b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n"],
)
def test_malformed_request_is_400_and_closed(gateway, request_line):
    head, closed = send_raw_expecting_close(gateway.port, request_line)
    assert head.startswith(b"HTTP/1.1 400"), head[:300]
    assert closed, "the gateway must close the connection after a malformed request"


@pytest.mark.parametrize(
    "raw",
    [b"GET /public/no-host HTTP/1.1\r\n\r\n",
     b"GET /public/two-hosts HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
     b"GET /hosted/two-hosts HTTP/1.1\r\nHost: elsewhere.example\r\nHost: tenant.example\r\n\r\n",
     b"POST /auth/login HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
     b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"],
    ids=["no-host", "two-hosts", "two-hosts-on-a-host-route", "no-host-on-the-control-plane",
         "two-hosts-on-the-control-plane"],
)
def test_http_1_1_request_without_exactly_one_host_is_400(gateway, upstreams, raw):
    # RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request without a Host or with more
    # than one; with two, route matching and the upstream could disagree about which host was meant.
    head, closed = send_raw_expecting_close(gateway.port, raw)
    assert head.startswith(b"HTTP/1.1 400"), head[:300]
    assert closed
    assert all("two-hosts" not in r["target"] and "no-host" not in r["target"] for up in upstreams for r in up.requests)


def test_http_1_0_request_with_two_hosts_is_400_and_not_forwarded(gateway, upstreams):
    # RFC 9112 section 3.2: more than one Host is 400 in any version. Only HTTP/1.1 was held to one, so an HTTP/1.0
    # request went upstream with both, its route matched on the first (found by Fuzz/Sources/FuzzEngineHead).
    marker = unique("old-two-hosts")
    raw = b"GET /public/" + marker.encode() + b" HTTP/1.0\r\nHost: a.example\r\nHost: b.example\r\n\r\n"
    head, closed = send_raw_expecting_close(gateway.port, raw)
    assert head.startswith(b"HTTP/1.0 400"), head[:300]
    assert closed
    assert all(marker not in r["target"] for up in upstreams for r in up.requests)


@pytest.mark.parametrize("host", [b"a b.example", b"a.example/evil", b"user@a.example", b"\xc3\xa4.example"],
                         ids=["space", "slash", "userinfo", "non-ascii"])
def test_host_that_no_uri_could_carry_is_400_and_not_forwarded(gateway, upstreams, host):
    # The Host value is forwarded and becomes X-Forwarded-Host; Go's server (so oauth2-proxy) refuses these too.
    marker = unique("bad-host")
    raw = b"GET /strip/" + marker.encode() + b" HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    head, closed = send_raw_expecting_close(gateway.port, raw)
    assert head.startswith(b"HTTP/1.1 400"), head[:300]
    assert closed
    assert all(marker not in r["target"] for up in upstreams for r in up.requests)


def test_http_1_0_request_with_a_transfer_encoding_is_400_and_closed(gateway, upstreams):
    # RFC 9112 section 6.1: the framing of such a message is faulty; nginx answers 400 too.
    marker = unique("old-chunked")
    raw = (b"POST /strip/" + marker.encode() + b" HTTP/1.0\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3\r\nabc\r\n0\r\n\r\n")
    head, closed = send_raw_expecting_close(gateway.port, raw)
    assert head.startswith(b"HTTP/1.0 400"), head[:300]
    assert closed
    assert all(marker not in r["target"] for up in upstreams for r in up.requests)


@pytest.mark.parametrize("coding", [b"gzip, chunked", b"gzip\r\nTransfer-Encoding: chunked", b"deflate,chunked"],
                         ids=["gzip-chunked", "two-lines", "deflate"])
def test_transfer_coding_other_than_chunked_is_501_and_not_forwarded(gateway, upstreams, coding):
    # The body would be forwarded dechunked and rechunked by libcurl, its gzip coding silently dropped;
    # RFC 9112 section 6.1 and nginx answer 501.
    marker = unique("coded")
    body = gzip.compress(b"hello")
    raw = (b"POST /strip/" + marker.encode() + b" HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: " + coding
           + b"\r\n\r\n" + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
    head, closed = send_raw_expecting_close(gateway.port, raw)
    assert head.startswith(b"HTTP/1.1 501"), head[:300]
    assert b'"error":"not_implemented"' in _read_until_close(gateway.port, raw)
    assert closed
    assert all(marker not in r["target"] for up in upstreams for r in up.requests)


def test_gateway_is_still_healthy(gateway, auth):
    assert gateway.healthy("/api/health", auth)


def _read_until_close(port, raw: bytes, timeout=10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        received = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                return received
            received += piece


def test_http10_client_gets_an_unframed_body_ended_by_close(gateway):
    # The upstream chunks; an HTTP/1.0 client cannot read chunks, so the body goes unframed and the
    # gateway closes the connection to end it, even though the client asked to keep it.
    raw = _read_until_close(gateway.port, b"GET /public/chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.0 200 OK"
    fields = [line.split(b": ", 1) for line in lines[1:]]
    assert [b"Connection", b"close"] in fields
    assert not any(name.lower() in (b"transfer-encoding", b"content-length") for name, _ in fields)
    assert body == CHUNKED_BODY


def test_http10_client_with_a_length_keeps_its_connection(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        for _ in range(2):
            sock.sendall(b"GET /public/status/404 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            received = b""
            while b"upstream said 404" not in received:
                piece = sock.recv(65536)
                assert piece, "the gateway closed a keep-alive HTTP/1.0 connection"
                received += piece
            assert received.startswith(b"HTTP/1.0 404 Not Found\r\n")
            assert b"\r\nConnection: keep-alive\r\n" in received


def _ask(conn, method, target):
    """One request on a kept connection: the response and its whole body."""
    conn.request(method, target)
    response = conn.getresponse()
    return response, response.read()


def test_head_of_a_chunked_answer_sends_no_chunks(gateway):
    conn = gateway.connection()
    try:
        head, head_body = _ask(conn, "HEAD", "/public/chunked")
        assert (head.status, head_body) == (200, b"")
        # a stray chunk after the HEAD answer would be read as this answer's start
        after, after_body = _ask(conn, "GET", "/public/chunked")
        assert (after.status, after_body) == (200, CHUNKED_BODY)
    finally:
        conn.close()


def _first_then_echo(gateway, method, target):
    """`target` on a fresh connection, then an echo request on the same one, which must come back in step (no
    stray bytes of the first answer read as the second's start). Returns the first response and its body."""
    conn = gateway.connection()
    try:
        first, first_body = _ask(conn, method, target)
        after, after_body = _ask(conn, "GET", "/public/echo-after")
        assert after.status == 200
        assert json.loads(after_body)["target"] == "/public/echo-after"
        return first, first_body
    finally:
        conn.close()


def test_head_answered_locally_has_no_body_and_keeps_the_connection(gateway):
    rejected, rejected_body = _first_then_echo(gateway, "HEAD", "/api/needs-a-token")
    assert (rejected.status, rejected_body) == (401, b"")
    assert int(rejected.getheader("Content-Length")) > 0
    request_id = rejected.getheader("X-Request-Id")
    logged = wait_for(lambda: [e for e in gateway.access_log() if e.get("request_id") == request_id] or None,
                      what="the HEAD request's access-log line")
    assert len(logged) == 1 and logged[0]["bytes_out"] == 0  # no body was sent


def test_length_contradicting_a_chunked_answer_is_not_passed_on(gateway):
    # Were Content-Length: 5 passed on, the client would read the rest of the body as the next answer.
    first, first_body = _first_then_echo(gateway, "GET", "/public/length-and-chunked")
    assert first.status == 200
    assert first.getheader("Content-Length") is None
    assert first_body == CHUNKED_BODY


def test_disagreeing_content_lengths_are_a_502_not_relayed(gateway):
    # Passed on, both lengths would let a client that reads the first take "world" as the next answer.
    answer, body = _first_then_echo(gateway, "GET", "/public/two-lengths")
    assert answer.status == 502
    assert json.loads(body)["error"] == "bad_gateway"


@pytest.mark.parametrize("answer", ["listed-lengths", "chunked-listed"])
def test_framing_fields_read_as_lists_are_relayed_as_libcurl_reads_them(gateway, answer):
    # "Content-Length: 5, 5" is one length (RFC 9110 section 8.6) and "Transfer-Encoding: chunked," one coding (an
    # empty list element is ignored, section 5.6.1): libcurl reads both so, and the answer is passed on, not a 502.
    response, body = _first_then_echo(gateway, "GET", f"/public/{answer}")
    assert response.status == 200
    if answer == "listed-lengths":
        assert (response.getheader("Content-Length"), body) == ("5", b"hello")
    else:
        assert (response.getheader("Content-Length"), body) == (None, CHUNKED_BODY)


def test_a_length_of_nineteen_digits_within_64_bits_is_passed_on(gateway):
    # libcurl and the client both trust it; only a length past 64 bits is a broken answer. The upstream then closes
    # early, so the client sees the announced length and a truncated body, never a 502 for a valid length.
    conn = gateway.connection()
    try:
        conn.request("GET", "/public/long-length")
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Length") == "1" + "0" * 18
    finally:
        conn.close()


@pytest.mark.parametrize("answer", ["huge-length", "huge-head", "unasked-switch"])
def test_answers_libcurl_reads_differently_from_a_client_are_a_502(gateway, answer):
    # A length past 64 bits (libcurl reads until close, the client trusts it), a header block over libcurl's
    # limit, a 101 nobody asked for: each is a broken answer, as nginx says 502, never a 500 or a relayed lie.
    response, body = _first_then_echo(gateway, "GET", f"/public/{answer}")
    assert response.status == 502
    assert json.loads(body)["error"] == "bad_gateway"


def test_transfer_coding_besides_chunked_is_a_502_not_relayed(gateway):
    # libcurl removes only the chunking: relayed, the gzip bytes would reach the client as if they were the body.
    answer, body = _first_then_echo(gateway, "GET", "/public/gzip-chunked")
    assert answer.status == 502
    assert json.loads(body)["error"] == "bad_gateway"
