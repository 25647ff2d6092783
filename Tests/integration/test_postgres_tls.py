"""The PostgreSQL link (issue 22 item 8): no password in clear text by default.

libpq's default `sslmode=prefer` falls back to plain text when the server (or whoever answers on the path)
declines TLS, and then hands over a cleartext password when asked. The gateway's default is `verify-full`;
plain text needs an explicit `sslmode=disable`. Every mode runs here against a real PostgreSQL 15 with TLS
on (`hostssl` only, so a connection that works was encrypted; certificates made by openssl), one serving
a certificate for another host name, one that refuses TLS (`ssl=off`), and a fake server that declines
TLS and asks for a cleartext password, to see what the gateway would send it.
"""
import socket
import struct
import subprocess
import threading

import pytest

from conftest import GATEWAY_BIN, run_gateway, wait_for
from gateway_process import unique
from postgres_server import PostgresServer
from wechat_simulator import AuthGateway

SSL_REQUEST = 80877103
PROTOCOL_3 = 196608


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    server = PostgresServer(tmp_path_factory.mktemp("pg-tls"), tls="on").start()
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def wrong_host_server(tmp_path_factory):
    server = PostgresServer(tmp_path_factory.mktemp("pg-wrong-host"), tls="wrong-host").start()
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory):
    server = PostgresServer(tmp_path_factory.mktemp("pg-plain"), tls="off").start()
    yield server
    server.destroy()


def database_url(server, sslmode, host="127.0.0.1"):
    name = server.create_database().rsplit("/", 1)[1].split("?")[0]
    return server.url(name, sslmode=sslmode, host=host)


def store_settings(ca_file=None):
    return f'timeout = "3s"\nca_file = "{ca_file}"' if ca_file else 'timeout = "3s"'


def serve(tmp_path, simulator, url, ca_file=None):
    """Starts the gateway on `url`; returns it running (the caller stops it)."""
    gw = AuthGateway(tmp_path, simulator, store_url=url, store_settings=store_settings(ca_file))
    gw.start()
    return gw


def serve_works(tmp_path, simulator, url, ca_file=None):
    """The gateway starts on `url` and a login writes a session to the database."""
    gw = serve(tmp_path, simulator, url, ca_file)
    try:
        tokens = gw.login(f"openid:{unique('tls')}")
        assert tokens["refresh_token"]
    finally:
        gw.stop()


def serve_fails(tmp_path, simulator, url, ca_file=None, password=None) -> str:
    """The gateway refuses to start on `url`; returns its stderr (never holding the password)."""
    gw = AuthGateway(tmp_path, simulator, store_url=url, store_settings=store_settings(ca_file))
    result = subprocess.run([GATEWAY_BIN, "serve", "--config", str(gw.config)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0, result.stdout + result.stderr
    if password:
        assert password not in result.stdout + result.stderr
    return result.stderr


def check(tmp_path, url, ca_file=None):
    gw = AuthGateway(tmp_path, api_base="http://127.0.0.1:9", apps={"wx0000000000000001": "s" * 32},
                     store_url=url, store_settings=store_settings(ca_file))
    return run_gateway("check", "--config", str(gw.config))


# -- verify-full, the default ------------------------------------------------------------------------


def test_verify_full_with_the_right_ca_file_works(tmp_path, simulator, tls_server):
    serve_works(tmp_path, simulator, database_url(tls_server, "verify-full"), tls_server.ca_file)


def test_verify_full_checks_the_name_localhost_too(tmp_path, simulator, tls_server):
    serve_works(tmp_path, simulator, database_url(tls_server, "verify-full", host="localhost"), tls_server.ca_file)


def test_no_sslmode_means_verify_full_and_works_with_the_right_ca_file(tmp_path, simulator, tls_server):
    serve_works(tmp_path, simulator, database_url(tls_server, None), tls_server.ca_file)


def test_no_sslmode_checks_the_certificate(tmp_path, simulator, tls_server):
    # The test CA is not among the system roots: without ca_file the default refuses the certificate.
    stderr = serve_fails(tmp_path, simulator, database_url(tls_server, None), password=tls_server.password)
    assert "certificate" in stderr, stderr


def test_no_sslmode_against_a_server_that_refuses_tls_is_a_clear_startup_error(tmp_path, simulator, plain_server):
    url = database_url(plain_server, None)
    stderr = serve_fails(tmp_path, simulator, url, password=plain_server.password)
    assert "store.url postgres://gateway:<redacted>@127.0.0.1" in stderr, stderr
    assert "refused TLS" in stderr and "sslmode=verify-full (the default)" in stderr, stderr
    assert "sslmode=disable" in stderr, stderr  # the way out is named
    # The server saw the connection but never a login to that database: the gateway stopped at the refusal.
    log = plain_server.log_text()
    assert "connection received: host=127.0.0.1" in log
    assert f"database={url.rsplit('/', 1)[1]}" not in log, log


def test_wrong_host_name_certificate_is_a_clear_startup_error(tmp_path, simulator, wrong_host_server):
    stderr = serve_fails(tmp_path, simulator, database_url(wrong_host_server, "verify-full"),
                         wrong_host_server.ca_file, password=wrong_host_server.password)
    assert "store.url postgres://gateway:<redacted>@127.0.0.1" in stderr, stderr
    assert "certificate" in stderr and "127.0.0.1" in stderr and "sslmode=verify-full" in stderr, stderr


def test_wrong_host_name_is_refused_by_default_too(tmp_path, simulator, wrong_host_server):
    stderr = serve_fails(tmp_path, simulator, database_url(wrong_host_server, None), wrong_host_server.ca_file,
                         password=wrong_host_server.password)
    assert "certificate" in stderr and "sslmode=verify-full" in stderr, stderr


# -- verify-ca, require ------------------------------------------------------------------------------


def test_verify_ca_checks_the_chain_but_not_the_name(tmp_path, simulator, wrong_host_server, tls_server):
    serve_works(tmp_path, simulator, database_url(wrong_host_server, "verify-ca"), wrong_host_server.ca_file)
    # Another CA's certificate is refused.
    stderr = serve_fails(tmp_path, simulator, database_url(wrong_host_server, "verify-ca"), tls_server.ca_file,
                         password=wrong_host_server.password)
    assert "certificate" in stderr, stderr


def test_verify_ca_against_a_server_that_refuses_tls_fails(tmp_path, simulator, plain_server):
    stderr = serve_fails(tmp_path, simulator, database_url(plain_server, "verify-ca"), password=plain_server.password)
    assert "refused TLS" in stderr, stderr


def test_require_works_against_tls_without_a_ca_file(tmp_path, simulator, tls_server):
    serve_works(tmp_path, simulator, database_url(tls_server, "require"))


def test_require_against_a_server_that_refuses_tls_fails(tmp_path, simulator, plain_server):
    stderr = serve_fails(tmp_path, simulator, database_url(plain_server, "require"), password=plain_server.password)
    assert "refused TLS" in stderr and "sslmode=require" in stderr, stderr


def test_require_with_a_ca_file_checks_the_chain_like_libpq(tmp_path, simulator, tls_server, wrong_host_server):
    serve_works(tmp_path, simulator, database_url(wrong_host_server, "require"), wrong_host_server.ca_file)
    stderr = serve_fails(tmp_path, simulator, database_url(wrong_host_server, "require"), tls_server.ca_file)
    assert "certificate" in stderr, stderr


# -- plain text only when asked for ------------------------------------------------------------------


def test_sslmode_disable_works_against_the_plain_server(tmp_path, simulator, plain_server):
    serve_works(tmp_path, simulator, database_url(plain_server, "disable"))


def test_the_tls_test_server_accepts_no_plain_text(tmp_path, simulator, tls_server):
    # What makes the successes above evidence of TLS: this server's pg_hba.conf has only hostssl lines.
    stderr = serve_fails(tmp_path, simulator, database_url(tls_server, "disable"), password=tls_server.password)
    assert "no encryption" in stderr, stderr


@pytest.mark.parametrize("mode", ["prefer", "allow"])
def test_prefer_and_allow_use_tls_when_offered_and_plain_text_otherwise(tmp_path, simulator, tls_server,
                                                                        plain_server, mode):
    serve_works(tmp_path, simulator, database_url(tls_server, mode))
    serve_works(tmp_path, simulator, database_url(plain_server, mode))


# -- config errors (`gateway check`) -----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["prefer", "allow"])
def test_prefer_or_allow_with_a_ca_file_is_a_config_error(tmp_path, mode):
    result = check(tmp_path, f"postgres://gw:pw@db.internal:5432/gateway?sslmode={mode}", "/etc/gateway/db-ca.pem")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"store.url: sslmode={mode} with ca_file" in result.stderr, result.stderr
    assert "ca_file would not be used" in result.stderr, result.stderr


def test_unknown_sslmode_is_a_config_error_naming_store_url(tmp_path):
    result = check(tmp_path, "postgres://gw:pw@db.internal:5432/gateway?sslmode=verify_full")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "store.url" in result.stderr and "verify_full" in result.stderr, result.stderr
    assert "verify-full" in result.stderr  # the accepted names are listed


@pytest.mark.parametrize("mode", [None, "disable", "allow", "prefer", "require", "verify-ca", "verify-full"])
def test_every_libpq_sslmode_passes_check(tmp_path, mode):
    query = "" if mode is None else f"?sslmode={mode}"
    result = check(tmp_path, f"postgres://gw:pw@db.internal:5432/gateway{query}")
    assert result.returncode == 0, result.stderr


# -- what a server that declines TLS is given ---------------------------------------------------------


class DecliningServer:
    """Answers an SSLRequest with 'N' (no TLS), then asks for a cleartext password (AuthenticationCleartext-
    Password) and records every message a client sends, as a man in the middle downgrading TLS would."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.ssl_requests = 0
        self.startups = 0
        self.passwords: list[bytes] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(10)
                try:
                    self._converse(connection)
                except OSError:
                    pass

    @staticmethod
    def _read(connection, count) -> bytes:
        data = b""
        while len(data) < count:
            chunk = connection.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _converse(self, connection):
        while True:
            length, code = struct.unpack("!II", self._read(connection, 8))
            self._read(connection, length - 8)
            if code == SSL_REQUEST:
                self.ssl_requests += 1
                connection.sendall(b"N")
                continue
            if code == PROTOCOL_3:
                self.startups += 1
                connection.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
                kind = self._read(connection, 1)
                length = struct.unpack("!I", self._read(connection, 4))[0]
                body = self._read(connection, length - 4)
                if kind == b"p":
                    self.passwords.append(body)
            return

    def stop(self):
        self._stopped.set()
        self._thread.join(timeout=10)
        self.listener.close()


@pytest.fixture
def declining_server():
    server = DecliningServer()
    yield server
    server.stop()


def test_no_sslmode_never_sends_the_password_to_a_server_that_declines_tls(tmp_path, simulator, declining_server):
    url = f"postgres://gateway:cleartext-secret@127.0.0.1:{declining_server.port}/gateway"
    stderr = serve_fails(tmp_path, simulator, url, password="cleartext-secret")
    assert "refused TLS" in stderr, stderr
    assert declining_server.ssl_requests >= 1
    assert declining_server.startups == 0 and declining_server.passwords == []


def test_sslmode_prefer_is_what_hands_the_password_over(tmp_path, simulator, declining_server):
    # The reason for the default: with prefer (libpq's default) the same server gets the password in clear.
    url = f"postgres://gateway:cleartext-secret@127.0.0.1:{declining_server.port}/gateway?sslmode=prefer"
    serve_fails(tmp_path, simulator, url, password="cleartext-secret")
    wait_for(lambda: declining_server.passwords, timeout=10, what="the password message")
    assert declining_server.passwords[0].rstrip(b"\0") == b"cleartext-secret"
