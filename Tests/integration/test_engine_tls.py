"""The engine's TLS listener (issue 23), `gateway serve` with one worker and `[server] tls_certificate`: OpenSSL over
the worker's non-blocking sockets (TLS 1.2+, HTTP/1.1 through ALPN). Certificates come from a throwaway CA made at
test time. Reload on SIGHUP is covered by test_ops_tls.py."""
import hashlib
import http.client
import json
import socket
import ssl

import pytest

from gateway_process import ThrowawayCA
from test_engine_connections import OneWorkerGateway
from upstream import download_piece


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return ThrowawayCA(tmp_path_factory.mktemp("engine-pki"))


@pytest.fixture(scope="module")
def gateway1(tmp_path_factory, pki, upstream):
    cert, key, serial = pki.issue("engine")
    gw = OneWorkerGateway(
        tmp_path_factory.mktemp("engine-tls"),
        server=f'tls_certificate = "{cert}"\ntls_private_key = "{key}"\nmax_body_bytes = "16MiB"\n',
        routes=f"""
        [[routes]]
        prefix = "/open/"
        upstreams = ["{upstream.url}"]
        auth = "none"
        """,
    ).start()
    gw.serial = serial
    yield gw
    gw.stop()


def tls_context(pki, alpn=None):
    context = ssl.create_default_context(cafile=str(pki.path))
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


def https(gateway1, pki, timeout=30):
    return http.client.HTTPSConnection("127.0.0.1", gateway1.port, context=tls_context(pki), timeout=timeout)


def test_handshake_offers_http_1_1_through_alpn_and_tls_1_2_or_later(gateway1, pki):
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=10) as raw:
        with tls_context(pki).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert tls.selected_alpn_protocol() is None  # offered nothing, so nothing was forced on us
            assert int(tls.getpeercert()["serialNumber"], 16) == gateway1.serial
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=10) as raw:
        with tls_context(pki, ["h2", "http/1.1"]).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.selected_alpn_protocol() == "http/1.1"


def test_tls_1_1_and_1_2_without_shared_ciphers_are_refused_and_the_listener_goes_on(gateway1, pki):
    old = tls_context(pki)
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            old.wrap_socket(raw, server_hostname="127.0.0.1")
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=10) as raw:
        with tls_context(pki).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_keep_alive_over_tls_serves_several_requests_on_one_connection(gateway1, pki):
    conn = https(gateway1, pki)
    seen = set()
    for index in range(5):
        conn.request("GET", f"/open/echo?n={index}")
        response = conn.getresponse()
        echo = json.loads(response.read())
        assert response.status == 200
        assert echo["target"].endswith(f"?n={index}")
        seen.add(conn.sock.fileno())
    assert len(seen) == 1
    conn.close()
    assert [entry for entry in gateway1.access_log() if entry.get("path") == "/open/echo"]


def test_request_bodies_of_both_framings_reach_the_upstream_over_tls(gateway1, pki):
    body = bytes(range(256)) * 4096  # 1 MiB: many TLS records, more than the connection's read buffer
    conn = https(gateway1, pki)
    conn.request("POST", "/open/upload", body=body, headers={"Content-Type": "application/octet-stream"})
    response = conn.getresponse()
    answer = json.loads(response.read())
    assert response.status == 200
    assert answer["length"] == len(body) and answer["sha256"] == hashlib.sha256(body).hexdigest()
    conn.request("POST", "/open/upload", body=iter([body[:300_000], body[300_000:]]),
                 headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
    response = conn.getresponse()
    answer = json.loads(response.read())
    assert answer["length"] == len(body) and answer["sha256"] == hashlib.sha256(body).hexdigest()
    conn.close()


def test_a_large_answer_is_relayed_whole_over_tls(gateway1, pki):
    size = 8 * 1024 * 1024 + 17  # past the socket buffers: partial SSL_write and EAGAIN on the way
    conn = https(gateway1, pki)
    conn.request("GET", f"/open/download?size={size}")
    response = conn.getresponse()
    data = response.read()
    assert response.status == 200 and len(data) == size
    piece = download_piece()
    assert data[: len(piece)] == piece[: len(data)]
    conn.request("GET", "/open/echo")  # the connection is still good afterwards
    assert conn.getresponse().status == 200
    conn.close()


def test_pipelined_requests_in_one_tls_record_are_all_answered(gateway1, pki):
    """The heads arrive in one record: the later ones wait decrypted inside OpenSSL (SSL_pending), where epoll
    cannot see them, until the first is answered."""
    heads = b"".join(f"GET /open/echo?p={i} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for i in range(2))
    heads += b"GET /open/echo?p=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=30) as raw:
        with tls_context(pki).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(heads)
            received = b""
            try:
                while chunk := tls.recv(65536):
                    received += chunk
            except ssl.SSLEOFError:
                pass
    assert received.count(b"HTTP/1.1 200 ") == 3
    assert received.index(b"?p=0") < received.index(b"?p=1") < received.index(b"?p=2")


def test_a_plain_http_client_on_the_tls_port_is_closed_and_the_listener_goes_on(gateway1, pki):
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=10) as raw:
        raw.sendall(b"GET /open/echo HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while chunk := raw.recv(4096):
            received += chunk
        assert b"HTTP/1.1" not in received  # at most a TLS alert, never an answer in clear
    conn = https(gateway1, pki)
    conn.request("GET", "/open/echo")
    assert conn.getresponse().status == 200
    conn.close()


def test_a_client_that_leaves_in_the_middle_of_the_handshake_does_not_stop_the_worker(gateway1, pki):
    with socket.create_connection(("127.0.0.1", gateway1.port), timeout=10) as raw:
        raw.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello cut short
    conn = https(gateway1, pki)
    conn.request("GET", "/open/echo")
    assert conn.getresponse().status == 200
    conn.close()


@pytest.fixture(scope="module")
def small_buffer_gateway(tmp_path_factory, pki, upstream):
    """Read buffers of about 2 KiB (max_header_bytes 1024): one TLS record holds more than a read takes."""
    cert, key, _ = pki.issue("engine-small")
    gw = OneWorkerGateway(
        tmp_path_factory.mktemp("engine-tls-small"),
        server=f'tls_certificate = "{cert}"\ntls_private_key = "{key}"\nmax_header_bytes = 1024\n',
        routes=f"""
        [[routes]]
        prefix = "/open/"
        upstreams = ["{upstream.url}"]
        auth = "none"
        """,
    ).start()
    yield gw
    gw.stop()


def test_bytes_left_decrypted_inside_openssl_are_read_without_a_new_socket_event(small_buffer_gateway, pki):
    """Head and body in one 16 KiB record, then nothing more from the client: a read takes about 2 KiB and OpenSSL
    keeps the rest decrypted (SSL_pending), which epoll cannot announce; the worker must read it anyway."""
    body = b"z" * 12_000
    head = f"POST /open/upload HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", small_buffer_gateway.port), timeout=30) as raw:
        with tls_context(pki).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(head + body)  # one write: one record
            response = http.client.HTTPResponse(tls)
            response.begin()
            answer = json.loads(response.read())
    assert response.status == 200
    assert answer["length"] == len(body) and answer["sha256"] == hashlib.sha256(body).hexdigest()


@pytest.fixture(scope="module")
def quick_idle_gateway(tmp_path_factory, pki, upstream):
    cert, key, _ = pki.issue("engine-idle")
    gw = OneWorkerGateway(
        tmp_path_factory.mktemp("engine-tls-idle"),
        server=f'tls_certificate = "{cert}"\ntls_private_key = "{key}"\nidle_timeout = "1s"\n',
        routes=f"""
        [[routes]]
        prefix = "/open/"
        upstreams = ["{upstream.url}"]
        auth = "none"
        """,
    ).start()
    yield gw
    gw.stop()


def test_a_handshake_that_stalls_is_closed_by_the_idle_timer(quick_idle_gateway, pki):
    """Half a ClientHello and then silence: the connection is closed (idle_timeout), not held forever."""
    with socket.create_connection(("127.0.0.1", quick_idle_gateway.port), timeout=30) as raw:
        raw.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        assert raw.recv(4096) == b""  # the gateway's close (recv would time out after 30 s otherwise)
    conn = https(quick_idle_gateway, pki)
    conn.request("GET", "/open/echo")
    assert conn.getresponse().status == 200
    conn.close()
