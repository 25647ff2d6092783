"""A real PostgreSQL server for the tests: Debian's `postgresql` package, run as an unprivileged user in a
temporary directory on a free loopback port, with password (SCRAM) authentication over TCP.

PostgreSQL refuses to run as root, so when the tests run as root (CI) every server command runs through
`runuser -u postgres` (the account Debian's package creates; created here if missing).

As a library (pytest fixtures):
    pg = PostgresServer(tmp_dir).start(); url = pg.create_database("fleet1"); pg.stop(); pg.start()

As a command, for test runners that need a database in the environment:
    python3 Tests/integration/postgres_server.py run -- swift test --skip-build
starts a server, creates a database, exports GATEWAY_TEST_POSTGRES_URL, runs the command, stops the server
and exits with the command's status. Tests run it with fsync off (speed; nothing there outlives the run);
`run --fsync` keeps PostgreSQL's durable defaults, for benchmarks.

TLS (`PostgresServer(dir, tls=...)`): `"off"` (the default) refuses TLS (`ssl=off`), so a client that
insists on it fails and one that falls back speaks plain text; `"on"` serves a certificate for 127.0.0.1
and localhost and accepts TCP clients only over TLS (`hostssl`), so every connection that works was
encrypted; `"wrong-host"` serves a certificate from the same CA for another host name. The CA is made with
`openssl` at start and its certificate is at `server.ca_file`.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

USER = "gateway"
PASSWORD = "pg-test-" + uuid.uuid4().hex[:12]


def _bin_dir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                           "(apt-get install postgresql)")
    return os.path.dirname(found[-1])


def _free_port() -> int:
    try:
        from conftest import free_port  # the suite's never-twice port picker, when under pytest
        return free_port()
    except ImportError:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


# The names in the server certificate, per `tls` mode.
TLS_CERTIFICATE_NAMES = {"on": ("localhost", "127.0.0.1"), "wrong-host": ("db.wrong-host.example",)}


def _make_certificates(directory: str, names) -> None:
    """ca.pem (with its key) and server.crt/server.key for `names` (DNS names or IP addresses), by openssl."""
    def openssl(*args):
        result = subprocess.run(["openssl", *args], cwd=directory, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"openssl {' '.join(args)} exited with {result.returncode}: {result.stderr.strip()}")

    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=gateway test PostgreSQL CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", *curve, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={names[0]}")
    alt = ",".join(("IP:" if name[0].isdigit() else "DNS:") + name for name in names)
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write(f"subjectAltName={alt}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-sha256", "-extfile", "server.ext", "-out", "server.crt")


class PostgresServer:
    def __init__(self, base_dir=None, fsync: bool = False, tls: str = "off"):
        if tls not in TLS_CERTIFICATE_NAMES and tls != "off":
            raise ValueError(f"tls must be off, on or wrong-host, not {tls}")
        self.bin = _bin_dir()
        self.tls = tls
        # As root the server runs as another user, who must be able to reach the directory: pytest's own
        # temporary directories are private to root, so the server gets its own under /tmp then.
        if base_dir is None or os.geteuid() == 0:
            base_dir = tempfile.mkdtemp(prefix="gateway-pg-")
        self.base = str(base_dir)
        self.data = os.path.join(self.base, "data")
        self.log = os.path.join(self.base, "postgres.log")
        self.port = _free_port()
        self.fsync = fsync
        self.password = PASSWORD
        self.ca_file = os.path.join(self.base, "ca.pem") if tls != "off" else None
        self._initialised = False
        self._as_user = None
        if os.geteuid() == 0:
            self._as_user = "postgres"
            try:
                pwd.getpwnam(self._as_user)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", self._as_user], check=True)
            os.makedirs(self.base, exist_ok=True)
            shutil.chown(self.base, self._as_user)
            os.chmod(self.base, 0o700)

    def _run(self, args, **kwargs):
        command = [os.path.join(self.bin, args[0]), *args[1:]]
        if self._as_user:
            command = ["runuser", "-u", self._as_user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, **kwargs)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited with {result.returncode}: {result.stderr.strip()}")
        return result

    def _initdb(self):
        pwfile = os.path.join(self.base, "pwfile")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        if self._as_user:
            shutil.chown(pwfile, self._as_user)
        self._run(["initdb", "-D", self.data, "-U", USER, "--pwfile", pwfile, "-E", "UTF8", "--locale", "C",
                   "--auth-local", "trust", "--auth-host", "scram-sha-256", "--no-sync"])
        os.remove(pwfile)
        if self.tls != "off":
            self._enable_tls()
        self._initialised = True

    def _enable_tls(self):
        """A CA and a server certificate (openssl), installed in the data directory, and TCP clients
        accepted only over TLS."""
        work = os.path.join(self.base, "pki")
        os.makedirs(work, exist_ok=True)
        _make_certificates(work, TLS_CERTIFICATE_NAMES[self.tls])
        shutil.copy(os.path.join(work, "ca.pem"), self.ca_file)
        for name in ("server.crt", "server.key"):
            target = os.path.join(self.data, name)
            shutil.copy(os.path.join(work, name), target)
            os.chmod(target, 0o600)  # PostgreSQL refuses a key that others can read
            if self._as_user:
                shutil.chown(target, self._as_user)
        shutil.rmtree(work)
        hba = os.path.join(self.data, "pg_hba.conf")
        with open(hba) as f:
            lines = f.read().splitlines()
        with open(hba, "w") as f:
            f.write("\n".join("hostssl" + line[4:] if line.startswith("host ") else line for line in lines) + "\n")

    def start(self):
        if not self._initialised:
            self._initdb()
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c max_connections=200"
                   + ("" if self.fsync else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
                   + (" -c ssl=on -c log_connections=on" if self.tls != "off" else " -c ssl=off -c log_connections=on"))
        try:
            self._run(["pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "60", "start"])
        except RuntimeError as error:
            raise RuntimeError(f"postgres did not start: {error}\n{self.log_text()}") from error
        return self

    def stop(self, mode: str = "fast"):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._run(["pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"])

    def destroy(self):
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def log_text(self) -> str:
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = self._run(["psql", "-h", self.base, "-p", str(self.port), "-U", USER, "-d", database,
                            "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
        return result.stdout.strip()

    def create_database(self, name: str | None = None) -> str:
        name = name or "gw_" + uuid.uuid4().hex[:10]
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, database: str, sslmode: str | None = "disable", host: str = "127.0.0.1") -> str:
        """The database's URL; `sslmode=None` leaves the parameter out (the gateway's default then)."""
        query = "" if sslmode is None else f"?sslmode={sslmode}"
        return f"postgres://{USER}:{self.password}@{host}:{self.port}/{database}{query}"


def main(argv):
    if len(argv) < 3 or argv[1] != "run" or "--" not in argv:
        print("usage: postgres_server.py run [--fsync] -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    command = argv[argv.index("--") + 1:]
    # Benchmarks ask for fsync: commits then cost what they cost on a real server.
    server = PostgresServer(fsync="--fsync" in argv[:argv.index("--")])
    try:
        server.start()
        env = dict(os.environ, GATEWAY_TEST_POSTGRES_URL=server.create_database("gateway_unit"))
        return subprocess.call(command, env=env)
    finally:
        server.destroy()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
