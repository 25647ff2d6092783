"""The real gateway binary as a process on loopback, with a config written for the test module."""
import http.client
import json
import os
import signal
import subprocess
import textwrap
import uuid

from conftest import GATEWAY_BIN, free_port, wait_for
from tokens import APPID, AUDIENCE, ISSUER, SECRET


class Gateway:
    def __init__(self, workdir, routes: str, server: str = ""):
        self.workdir = workdir
        self.port = free_port()
        self.admin_port = free_port()
        self.config = workdir / "gateway.conf"
        self.config.write_text(
            textwrap.dedent(
                f"""\
                [server]
                listen = "127.0.0.1:{self.port}"
                admin_listen = "127.0.0.1:{self.admin_port}"
                """
            )
            + textwrap.dedent(server)
            + textwrap.dedent(
                f"""
                [wechat]
                api_base = "http://127.0.0.1:{free_port()}"

                [[wechat.apps]]
                appid = "{APPID}"
                secret = "integration-app-secret"

                [tokens]
                issuer = "{ISSUER}"
                audience = "{AUDIENCE}"
                algorithm = "HS256"
                secret = "{SECRET}"
                leeway = "30s"

                [store]
                url = "sqlite://{workdir}/g.db"
                """
            )
            + textwrap.dedent(routes)
        )
        self.stdout_path = workdir / "gateway.stdout"
        self.stderr_path = workdir / "gateway.stderr"
        self.process = None

    def start(self):
        assert os.path.exists(GATEWAY_BIN), f"build the gateway first: {GATEWAY_BIN} is missing"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen([GATEWAY_BIN, "serve", "--config", str(self.config)], stdout=out, stderr=err)

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"gateway exited with {self.process.returncode}:\n{self.stderr()}")
            return self._public_port_open()

        try:
            wait_for(ready, timeout=30, what="gateway to accept connections")
        except BaseException:
            self.stop()  # a fixture that fails in setup never reaches its teardown
            raise
        return self

    def _public_port_open(self):
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def access_log(self) -> list[dict]:
        lines = []
        for line in self.stdout_path.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                pass
        return lines

    # -- clients ----------------------------------------------------------------------------------

    def connection(self, timeout=30) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, target, headers=None, body=None, timeout=30):
        """One request on a fresh connection: (status, [(name, value)...], body bytes)."""
        conn = self.connection(timeout)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            header_items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
            if not any(name.lower() == "host" for name, _ in header_items):
                conn.putheader("Host", f"127.0.0.1:{self.port}")
            for name, value in header_items:
                conn.putheader(name, value)
            if body is not None and not any(n.lower() in ("content-length", "transfer-encoding") for n, _ in header_items):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
            return response.status, response.getheaders(), data
        finally:
            conn.close()

    def get_json(self, target, headers=None, **kwargs):
        status, response_headers, body = self.request("GET", target, headers, **kwargs)
        return status, response_headers, (json.loads(body) if body else None)

    def admin(self, method, target):
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=5)
        try:
            conn.request(method, target)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def healthy(self, probe_target: str, headers=None) -> bool:
        """The process is alive and still proxies a plain request (the admin listener is issue 6's)."""
        if self.process.poll() is not None:
            return False
        status, _, _ = self.request("GET", probe_target, headers)
        return status == 200


def send_raw_expecting_close(port, raw: bytes, timeout=10):
    """Sends raw bytes; returns (response head, whether the gateway then closed the connection).
    The head is returned as soon as it is complete, so a wrong answer fails fast instead of waiting."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        received = b""
        while b"\r\n\r\n" not in received:
            piece = sock.recv(65536)
            if not piece:
                return received, True
            received += piece
        head = received.split(b"\r\n\r\n", 1)[0]
        if not head.startswith(b"HTTP/1.1 400") and b"connection: close" not in head.lower():
            return head, None
        try:
            while sock.recv(65536):
                pass
            return head, True
        except TimeoutError:
            return head, False


def headers_named(headers, name):
    return [value for key, value in headers if key.lower() == name.lower()]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def unique(prefix="o") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
