"""The control-plane harness: `gateway mock-wechat` as a real process, a gateway configured against it,
and a recorder of everything the gateway said (HTTP answers, stdout, stderr) for the secret-leak scan.

    sim = WeChatSimulator({APPID: APP_SECRET}).start()
    gw = AuthGateway(tmp_path, sim, apps={APPID: APP_SECRET}).start()
    status, headers, body = gw.post_json("/auth/login", {"code": "openid:alice"})

Every `AuthGateway` registers its log files and every answer it received in `EVIDENCE`, so a test
can prove that no session_key, refresh token or secret ever left the gateway where it should not.
"""
import base64
import http.client
import json
import os
import subprocess
import textwrap
import threading
import urllib.parse

from conftest import GATEWAY_BIN, free_port, stop_process, wait_until_listening
from gateway_process import Gateway
from tokens import AUDIENCE, ISSUER, SECRET

APP_SECRET = "integration-app-secret-7f3a9c"


class Evidence:
    """Everything the tests' gateways emitted: answers (with the refresh token each one issued) and log files."""

    def __init__(self):
        self._lock = threading.Lock()
        # (target, status, headers, body, the refresh token this answer issued or None)
        self.answers: list[tuple[str, int, list, bytes, str | None]] = []
        self.log_files: list = []
        self.session_keys: set[str] = set()

    def answer(self, target, status, headers, body) -> dict | None:
        """Records an answer; returns its JSON object when it is one."""
        parsed = None
        if body[:1] == b"{":
            try:
                parsed = json.loads(body)
            except ValueError:
                pass
        issued = parsed.get("refresh_token") if isinstance(parsed, dict) and status == 200 else None
        with self._lock:
            self.answers.append((target, status, headers, body, issued if isinstance(issued, str) else None))
        return parsed if isinstance(parsed, dict) else None

    def session_key(self, key: str):
        with self._lock:
            self.session_keys.add(key)

    def snapshot(self):
        with self._lock:
            return list(self.answers), list(self.log_files), set(self.session_keys)


EVIDENCE = Evidence()


class WeChatSimulator:
    """`gateway mock-wechat` on a free loopback port. `apps` maps appid → secret."""

    def __init__(self, apps: dict[str, str], workdir=None):
        self.apps = apps
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.process = None

    def start(self):
        args = [GATEWAY_BIN, "mock-wechat", "--listen", f"127.0.0.1:{self.port}"]
        if len(self.apps) == 1:
            ((appid, secret),) = self.apps.items()
            args += ["--appid", appid, "--secret", secret]
        else:
            # Several apps come from a gateway.conf's [[wechat.apps]].
            conf = self.workdir / "simulator-apps.conf"
            conf.write_text(
                "[wechat]\n"
                + "".join(f'[[wechat.apps]]\nappid = "{a}"\nsecret = "{s}"\n' for a, s in self.apps.items())
                + f'[tokens]\nsecret = "{SECRET}"\n'
            )
            args += ["--config", str(conf)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        wait_until_listening(self.process, self.port, "mock-wechat", stop=self.stop)
        return self

    def stop(self):
        stop_process(self.process, timeout=10)

    def session_key(self, openid: str, missing_ok: bool = False) -> str | None:
        """The newest session_key the simulator handed out for `openid` (its `/__sim/session_key` hook); None for a
        user of a web login (no session_key) when `missing_ok`."""
        status, body = self.get("/__sim/session_key", {"openid": openid})
        if missing_ok and status == 404:
            return None
        assert status == 200, body
        return body["session_key"]

    def get(self, path: str, params: dict) -> tuple[int, dict]:
        """A GET of the simulator's JSON API: (status, parsed body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path + "?" + urllib.parse.urlencode(params))
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()


class AuthGateway(Gateway):
    """The gateway binary configured against a `WeChatSimulator` (or any `api_base`), with an echo route.

    `name` keeps the log files of several processes on one sqlite file apart (restart tests)."""

    def __init__(
        self,
        workdir,
        simulator=None,
        *,
        api_base: str | None = None,
        apps: dict[str, str] | None = None,
        wechat_timeout: str = "5s",
        auth_per_minute: int = 100000,
        auth_burst: int = 100000,
        upstream_url: str | None = None,
        log_level: str = "info",
        name: str = "gateway",
        port: int | None = None,
        trusted_proxies: tuple[str, ...] = (),
        store_url: str | None = None,
        store_settings: str = "",
        kinds: dict[str, str] | None = None,
    ):
        self.workdir = workdir
        self.simulator = simulator
        self.port = port or free_port()
        self.admin_port = free_port()
        self.config = workdir / f"{name}.conf"
        apps = apps if apps is not None else dict(simulator.apps)
        api_base = api_base or simulator.url
        kinds = kinds or {}
        app_tables = "".join(
            f'\n[[wechat.apps]]\nappid = "{appid}"\nsecret = "{secret}"\n'
            + (f'kind = "{kinds[appid]}"\n' if appid in kinds else "")
            for appid, secret in apps.items()
        )
        route = ""
        if upstream_url:
            route = f'\n[[routes]]\nprefix = "/api/"\nupstreams = ["{upstream_url}"]\nauth = "required"\n'
        self.config.write_text(
            textwrap.dedent(
                f"""\
                [server]
                listen = "127.0.0.1:{self.port}"
                admin_listen = "127.0.0.1:{self.admin_port}"
                trusted_proxies = {json.dumps(list(trusted_proxies))}

                [log]
                level = "{log_level}"

                [wechat]
                api_base = "{api_base}"
                timeout = "{wechat_timeout}"
                """
            )
            + app_tables
            + textwrap.dedent(
                f"""
                [tokens]
                issuer = "{ISSUER}"
                audience = "{AUDIENCE}"
                algorithm = "HS256"
                secret = "{SECRET}"
                access_ttl = "15m"
                refresh_ttl = "30d"
                leeway = "30s"

                [store]
                url = "{store_url or f'sqlite://{workdir}/auth.db'}"
                {store_settings}

                [rate_limit]
                auth_per_minute = {auth_per_minute}
                auth_burst = {auth_burst}
                """
            )
            + route
        )
        self.stdout_path = workdir / f"{name}.stdout"
        self.stderr_path = workdir / f"{name}.stderr"
        self.process = None
        EVIDENCE.log_files += [self.stdout_path, self.stderr_path]

    # -- clients that record every answer for the leak scan ---------------------------------------

    def request(self, method, target, headers=None, body=None, timeout=30):
        status, response_headers, data = super().request(method, target, headers, body, timeout)
        parsed = EVIDENCE.answer(target, status, response_headers, data)
        if target == "/auth/login" and status == 200 and parsed and self.simulator is not None:
            # The session_key WeChat just handed the gateway: it must never come back out. A web login's user has
            # none (its web tokens are scanned by test_auth_web_login.py).
            key = self.simulator.session_key(parsed["openid"], missing_ok=True)
            if key is not None:
                EVIDENCE.session_key(key)
        return status, response_headers, data

    def post_json(self, target, payload, headers=None):
        """POST a JSON body: (status, headers, parsed JSON or None)."""
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        status, response_headers, data = self.request("POST", target, all_headers, json.dumps(payload).encode())
        return status, response_headers, (json.loads(data) if data else None)

    def post_form(self, target, fields, headers=None):
        all_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        body = urllib.parse.urlencode(fields).encode()
        status, response_headers, data = self.request("POST", target, all_headers, body)
        return status, response_headers, (json.loads(data) if data else None)

    def login(self, code, appid=None, expect=200):
        payload = {"code": code}
        if appid is not None:
            payload["appid"] = appid
        status, headers, body = self.post_json("/auth/login", payload)
        assert status == expect, (status, body)
        return body

    def refresh(self, refresh_token):
        return self.post_form("/auth/token", {"grant_type": "refresh_token", "refresh_token": refresh_token})


def header(headers, name):
    values = [v for k, v in headers if k.lower() == name.lower()]
    assert len(values) <= 1, f"{name} repeated: {values}"
    return values[0] if values else None


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
