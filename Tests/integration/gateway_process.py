"""The real gateway binary as a process on loopback, with a config written for the test module."""
import http.client
import json
import os
import signal
import subprocess
import textwrap
import uuid

from conftest import GATEWAY_BIN, SERVE_ARGS, free_port, stop_process, wait_for, wait_until_listening
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
            self.process = subprocess.Popen(
                [GATEWAY_BIN, *SERVE_ARGS, "--config", str(self.config), *getattr(self, "extra_args", [])],
                stdout=out, stderr=err, env=getattr(self, "env", None), preexec_fn=getattr(self, "preexec", None))

        wait_until_listening(self.process, self.port, "gateway", details=self.stderr, stop=self.stop)
        # The admin listener binds after the public one: a test that scrapes /metrics first must not race it.
        if f"127.0.0.1:{self.admin_port}" in self.config.read_text():
            wait_until_listening(self.process, self.admin_port, "gateway admin", details=self.stderr, stop=self.stop)
        return self

    def stop(self):
        stop_process(self.process, timeout=20)

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


# -- operations (admin listener, reload, TLS) ------------------------------------------------------

def parse_prometheus_text(text: str) -> dict:
    """Parses the Prometheus text exposition format strictly enough to catch a malformed scrape:
    every sample belongs to a family announced by `# TYPE`, names and labels are well formed, values
    are floats, histogram buckets are cumulative and end in +Inf == _count. Returns
    {(name, frozenset(labels.items())): value}."""
    import re

    name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
    sample_re = re.compile(rf"^({name_re})(?:\{{(.*)\}})? ([^ ]+)(?: (-?\d+))?$")
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')
    types: dict[str, str] = {}
    samples: dict = {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert re.fullmatch(name_re, name), line
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, f"TYPE repeated: {line}"
            types[name] = kind
            continue
        if line.startswith("#"):
            assert line.startswith("# HELP "), line
            continue
        match = sample_re.match(line)
        assert match, f"not a sample line: {line!r}"
        name, label_text, value = match.group(1), match.group(2) or "", match.group(3)
        labels = {}
        position = 0
        while position < len(label_text):
            label = label_re.match(label_text, position)
            assert label, f"bad labels in {line!r}"
            labels[label.group(1)] = label.group(2)
            position = label.end()
        family = next((f for f in (name, re.sub(r"_(bucket|sum|count|total)$", "", name)) if f in types), None)
        assert family is not None, f"sample without # TYPE: {line}"
        key = (name, frozenset(labels.items()))
        assert key not in samples, f"duplicate series: {line}"
        samples[key] = float(value)
    for family, kind in types.items():
        if kind != "histogram":
            continue
        series: dict = {}
        for (name, labels), value in samples.items():
            if name == family + "_bucket":
                rest = frozenset((k, v) for k, v in labels if k != "le")
                series.setdefault(rest, []).append((float(dict(labels)["le"]), value))
        for rest, buckets in series.items():
            buckets.sort()
            counts = [count for _, count in buckets]
            assert counts == sorted(counts), f"{family} buckets not cumulative"
            assert buckets[-1][0] == float("inf"), f"{family} lacks +Inf"
            assert samples[(family + "_count", rest)] == counts[-1]
    return samples


def metric(samples: dict, name: str, **labels) -> float:
    """The value of one series; 0 when it does not exist (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(gateway) -> dict:
    status, body = gateway.admin("GET", "/metrics")
    assert status == 200, body
    return parse_prometheus_text(body.decode())


def replace_routes(gateway, routes: str, server: str | None = None):
    """Rewrites the gateway's config with new [[routes]] (and optionally extra [server] keys), keeping
    the rest, for reload tests."""
    text = gateway.config.read_text()
    head = text[: text.index("[[routes]]")] if "[[routes]]" in text else text
    if server is not None:
        lines = head.splitlines(keepends=True)
        end = next(i for i, line in enumerate(lines) if line.startswith("[wechat]"))
        keep = [line for line in lines[:end] if line.startswith(("[server]", "listen", "admin_listen"))]
        head = "".join(keep) + textwrap.dedent(server) + "\n" + "".join(lines[end:])
    gateway.config.write_text(head + textwrap.dedent(routes))


def reload_and_wait(gateway, outcome: str):
    """SIGHUP, then waits until the reload with `outcome` (success/failure) has been counted."""
    before = metric(scrape(gateway), "gateway_config_reloads_total", outcome=outcome)
    gateway.process.send_signal(signal.SIGHUP)
    wait_for(lambda: metric(scrape(gateway), "gateway_config_reloads_total", outcome=outcome) > before,
             timeout=20, what=f"a reload counted as {outcome}")


class ThrowawayCA:
    """A throwaway certificate authority (Python `cryptography`) issuing loopback server certificates."""

    def __init__(self, directory):
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self._x509, self._hashes, self._serialization, self._ec, self._oid = x509, hashes, serialization, ec, NameOID
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gateway test CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.path = directory / "ca.pem"
        self.path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str) -> tuple:
        """A server certificate for 127.0.0.1 and localhost: (cert path, key path, serial number)."""
        import datetime
        import ipaddress

        x509, serialization = self._x509, self._serialization
        key = self._ec.generate_private_key(self._ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        serial = x509.random_serial_number()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(self._oid.COMMON_NAME, name)]))
            .issuer_name(self.cert.subject).public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self.key, self._hashes.SHA256())
        )
        cert_path, key_path = self.directory / f"{name}.pem", self.directory / f"{name}-key.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return cert_path, key_path, serial
