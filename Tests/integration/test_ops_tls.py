"""TLS (issue 7): HTTPS on the public listener (TLS 1.2+, HTTP/1.1 via ALPN) in front of an HTTPS
upstream verified against a per-route `ca_file`; certificate renewal on SIGHUP; bad certificates are
config errors; `insecure_skip_verify` works only with a loud warning. Certificates come from a
throwaway CA made at test time."""
import http.client
import json
import socket
import ssl
import subprocess
import time

import pytest

from conftest import run_gateway
from gateway_process import Gateway, ThrowawayCA, metric, reload_and_wait, scrape
from upstream import https_upstream


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    ca = ThrowawayCA(tmp_path_factory.mktemp("pki"))
    return ca


@pytest.fixture(scope="module")
def upstream(pki):
    cert, key, _ = pki.issue("upstream")
    up = https_upstream("secure", cert, key)
    yield up
    up.stop()


def tls_config(pki, upstream, cert, key, extra_routes=""):
    return dict(
        server=f'tls_certificate = "{cert}"\ntls_private_key = "{key}"\n',
        routes=f"""
        [[routes]]
        prefix = "/secure/"
        upstreams = ["{upstream.url}"]
        auth = "none"
        ca_file = "{pki.path}"

        [[routes]]
        prefix = "/system-ca/"
        upstreams = ["{upstream.url}"]
        auth = "none"
        """ + extra_routes,
    )


@pytest.fixture
def gateway(tmp_path, pki, upstream):
    cert, key, serial = pki.issue("gateway")
    gw = Gateway(tmp_path, **tls_config(pki, upstream, cert, key))
    gw.serial = serial
    gw.start()
    yield gw
    gw.stop()


def curl(gateway, pki, target, *extra):
    return subprocess.run(
        ["curl", "-sS", "-v", "--cacert", str(pki.path), *extra, f"https://127.0.0.1:{gateway.port}{target}"],
        capture_output=True, text=True, timeout=30)


def peer_certificate_serial(gateway, pki) -> int:
    context = ssl.create_default_context(cafile=str(pki.path))
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return int(tls.getpeercert()["serialNumber"], 16)


def test_curl_with_the_test_ca_reaches_an_https_upstream_through_the_tls_listener(gateway, pki):
    result = curl(gateway, pki, "/secure/echo")
    assert result.returncode == 0, result.stderr
    echo = json.loads(result.stdout)
    assert echo["upstream"] == "secure"
    assert "ALPN: server accepted http/1.1" in result.stderr
    # The upstream is told the client came over HTTPS.
    assert ["X-Forwarded-Proto", "https"] in echo["headers"]


def test_listener_speaks_only_tls_1_2_or_later(gateway, pki):
    context = ssl.create_default_context(cafile=str(pki.path))
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert tls.selected_alpn_protocol() is None  # offered nothing, so nothing was forced on us
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.selected_alpn_protocol() == "http/1.1"


def test_upstream_certificate_is_verified_against_the_system_bundle_without_ca_file(gateway, pki):
    result = curl(gateway, pki, "/system-ca/echo", "-o", "/dev/null", "-w", "%{http_code}")
    assert result.stdout == "502"


def test_sighup_picks_up_a_renewed_certificate(gateway, pki, upstream):
    assert peer_certificate_serial(gateway, pki) == gateway.serial
    cert, key, renewed = pki.issue("gateway")  # same file names: renewal in place, as certbot does
    assert renewed != gateway.serial

    reload_and_wait(gateway, "success")

    assert peer_certificate_serial(gateway, pki) == renewed
    assert curl(gateway, pki, "/secure/echo").returncode == 0


def test_reload_with_a_broken_certificate_keeps_the_old_one(gateway, pki):
    cert = gateway.workdir / "broken.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    text = gateway.config.read_text()
    original = [line for line in text.splitlines() if line.startswith("tls_certificate")][0]
    gateway.config.write_text(text.replace(original, f'tls_certificate = "{cert}"'))

    reload_and_wait(gateway, "failure")

    assert "server.tls_certificate" in gateway.stderr()
    assert peer_certificate_serial(gateway, pki) == gateway.serial


def test_check_reports_a_bad_or_missing_certificate(tmp_path, pki, upstream):
    cert, key, _ = pki.issue("checked")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("this is not a certificate\n")
    other_key = pki.issue("other")[1]
    for bad_cert, bad_key in ((garbage, key), (tmp_path / "missing.pem", key), (cert, other_key)):
        gw = Gateway(tmp_path, **tls_config(pki, upstream, bad_cert, bad_key))
        result = run_gateway("check", "--config", str(gw.config))
        assert result.returncode == 1, (bad_cert, bad_key, result.stdout)
        assert "server.tls_" in result.stderr, result.stderr
    gw = Gateway(tmp_path, **tls_config(pki, upstream, cert, key))
    assert run_gateway("check", "--config", str(gw.config)).returncode == 0


def test_insecure_skip_verify_works_and_is_announced_loudly(tmp_path, pki, upstream):
    cert, key, _ = pki.issue("gateway-insecure")
    gw = Gateway(tmp_path, **tls_config(pki, upstream, cert, key, extra_routes=f"""
        [[routes]]
        prefix = "/unverified/"
        upstreams = ["{upstream.url}"]
        auth = "none"
        insecure_skip_verify = true
        """)).start()
    try:
        assert json.loads(curl(gw, pki, "/unverified/echo").stdout)["upstream"] == "secure"
        warning = [line for line in gw.stderr().splitlines() if "insecure_skip_verify" in line]
        assert warning and "warning" in warning[0] and "NOT verified" in warning[0]
        assert metric(scrape(gw), "gateway_requests_total", route="/unverified/", method="GET", status="200") == 1
    finally:
        gw.stop()



def write_all_then_read_over_tls(port, ca_path, head: bytes, body: bytes, pause=0.0):
    """The whole request is written before the answer is read (Python's http.client, Java's
    HttpURLConnection, many SDKs), in 256 KiB writes `pause` seconds apart. Over TLS a gateway that closes
    after an early answer while records are still arriving resets the connection under the writer, and the
    client never sees the answer."""
    context = ssl.create_default_context(cafile=str(ca_path))
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(head)
            piece = 256 * 1024
            for start in range(0, len(body), piece):
                tls.sendall(body[start:start + piece])
                time.sleep(pause)
            response = http.client.HTTPResponse(tls)
            response.begin()
            return response.status, response.read()


@pytest.fixture
def tight_tls_gateway(tmp_path, pki, upstream):
    cert, key, _ = pki.issue("gateway")
    config = tls_config(pki, upstream, cert, key)
    config["server"] += 'max_body_bytes = "1KiB"\n'
    gw = Gateway(tmp_path, **config).start()
    yield gw
    gw.stop()


def test_lingering_close_over_tls_delivers_the_413_to_a_client_that_writes_its_whole_body_first(
        tight_tls_gateway, pki):
    """Issue 22 item 13: after an early answer on a TLS listener the rest of the body is read and dropped."""
    port = tight_tls_gateway.port
    total = 12 * 1024 * 1024  # far past the kernel's socket buffers on both sides
    head = f"POST /secure/upload HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n".encode()
    status, body = write_all_then_read_over_tls(port, pki.path, head, b"x" * total)
    assert status == 413
    assert json.loads(body)["error"]
    # The same with a chunked body, whose size the gateway learns only while reading it.
    chunk = b"y" * (256 * 1024)
    framed = b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(48)) + b"0\r\n\r\n"
    head = b"POST /secure/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, _ = write_all_then_read_over_tls(port, pki.path, head, framed)
    assert status == 413


def test_lingering_close_over_tls_outlasts_a_slow_upload(tight_tls_gateway, pki):
    """A phone on a slow link: its whole body takes about 8 s to write, longer than the wait for the client's
    close_notify that a TLS close alone would give it (about 5 s); lingering_time (30 s) covers it."""
    total = 8 * 1024 * 1024
    head = f"POST /secure/upload HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n".encode()
    status, _ = write_all_then_read_over_tls(tight_tls_gateway.port, pki.path, head, b"x" * total, pause=0.25)
    assert status == 413
