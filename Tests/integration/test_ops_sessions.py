"""Ending a user's sessions from the admin listener (issue 25 item 2): `GET /sessions?openid=X` lists a user's
live sessions without any token material, `POST /sessions/revoke` ends them (refresh tokens refused, access tokens
refused on every instance), `[server] admin_token` guards both and `/metrics` while the probes stay open, and
`gateway sessions list|revoke` drives it from the command line.
"""
import base64
import http.client
import json
import os
import subprocess

import pytest

from conftest import GATEWAY_BIN, wait_for
from gateway_process import bearer, unique
from wechat_simulator import AuthGateway

UPSTREAM_NAME = "legacy"  # conftest.py's `upstream` fixture puts this name in its answers
ADMIN_TOKEN = "ops-admin-token-0123456789"


def with_admin_token(gw):
    """The token from the environment, as an operator would configure it."""
    text = gw.config.read_text()
    gw.config.write_text(
        text.replace("[server]\n", '[server]\nadmin_token = "${GATEWAY_ADMIN_TOKEN}"\n', 1))
    gw.env = {**os.environ, "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN}
    return gw


def admin(gw, method, target, payload=None, token=ADMIN_TOKEN):
    conn = http.client.HTTPConnection("127.0.0.1", gw.admin_port, timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = None
    if payload is not None:
        body = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def two_logins(gw, openid, other=None):
    """Two sessions of one user: a code is single-use, and `+union` gives the same openid (the simulator's rule)."""
    return [gw.login(f"openid:{openid}"), (other or gw).login(f"openid:{openid}+union")]


def sid(tokens):
    return json.loads(base64.urlsafe_b64decode(tokens["access_token"].split(".")[1] + "=="))["sid"]


def api(gw, token):
    return gw.request("GET", "/api/whoami", bearer(token))[0]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, simulator, upstream):
    gw = with_admin_token(AuthGateway(tmp_path_factory.mktemp("ops-sessions"), simulator, upstream_url=upstream.url))
    gw.start()
    yield gw
    gw.stop()


def test_list_shows_each_session_and_no_token_material(gateway):
    openid = unique("ops")
    first, second = two_logins(gateway, openid)
    gateway.login(f"openid:{unique('bystander')}")
    status, _, body = admin(gateway, "GET", f"/sessions?openid={openid}")
    assert status == 200, body
    listed = json.loads(body)
    assert listed["openid"] == openid
    assert len(listed["sessions"]) == 2
    assert {s["sid"] for s in listed["sessions"]} == {sid(first), sid(second)}
    for session in listed["sessions"]:
        assert set(session) == {"sid", "appid", "created", "last_refreshed", "expires"}
    text = body.decode()
    for tokens in (first, second):
        assert tokens["refresh_token"] not in text and tokens["access_token"] not in text
    assert gateway.simulator.session_key(openid) not in text


def test_a_reason_with_a_line_break_cannot_forge_a_log_line(gateway):
    openid = unique("forger")
    gateway.login(f"openid:{openid}")
    forged = "2026-01-01T00:00:00+0000 notice gateway : forged-line-5521"
    status, _, body = admin(gateway, "POST", "/sessions/revoke", {"openid": openid, "reason": "x\n" + forged})
    assert status == 200, body
    wait_for(lambda: "forged-line-5521" in gateway.stderr(), timeout=10, what="the revocation's log line")
    assert not any(line.startswith(forged) for line in gateway.stderr().splitlines()), "the reason broke the line"


def test_revoke_by_openid_ends_every_session_refresh_and_access(gateway):
    openid = unique("stolen")
    sessions = two_logins(gateway, openid)
    other = gateway.login(f"openid:{unique('bystander')}")
    for tokens in sessions:
        assert api(gateway, tokens["access_token"]) == 200
    status, _, body = admin(gateway, "POST", "/sessions/revoke", {"openid": openid, "reason": "stolen phone 7781"})
    assert status == 200, body
    assert json.loads(body) == {"revoked": 2}
    for tokens in sessions:
        status, _, answer = gateway.refresh(tokens["refresh_token"])
        assert status == 400 and answer["error"] == "invalid_grant", answer
        assert api(gateway, tokens["access_token"]) == 401
    assert api(gateway, other["access_token"]) == 200, "another user's session lives on"
    status, _, body = admin(gateway, "GET", f"/sessions?openid={openid}")
    assert json.loads(body)["sessions"] == []
    status, _, body = admin(gateway, "POST", "/sessions/revoke", {"openid": openid})
    assert json.loads(body) == {"revoked": 0}
    wait_for(lambda: "stolen phone 7781" in gateway.stderr(), timeout=10, what="the revocation's log line")
    assert gateway.stderr().count("stolen phone 7781") == 1, "logged once, with the reason"


def test_revoke_by_sid_ends_one_session(gateway):
    openid = unique("one")
    kept, ended = two_logins(gateway, openid)
    status, _, body = admin(gateway, "GET", f"/sessions?openid={openid}")
    sid_of = {s["sid"]: s for s in json.loads(body)["sessions"]}
    assert len(sid_of) == 2
    assert set(sid_of) == {sid(kept), sid(ended)}
    status, _, body = admin(gateway, "POST", "/sessions/revoke", {"sid": sid(ended)})
    assert status == 200 and json.loads(body) == {"revoked": 1}
    assert api(gateway, ended["access_token"]) == 401
    assert api(gateway, kept["access_token"]) == 200
    assert gateway.refresh(kept["refresh_token"])[0] == 200


def test_admin_token_guards_sessions_and_metrics_but_not_the_probes(gateway):
    for method, target, payload in [
        ("GET", "/sessions?openid=x", None), ("POST", "/sessions/revoke", {"openid": "x"}), ("GET", "/metrics", None),
    ]:
        status, headers, _ = admin(gateway, method, target, payload, token=None)
        assert status == 401, target
        assert headers.get("WWW-Authenticate", "").startswith("Bearer")
        assert admin(gateway, method, target, payload, token="wrong-token-0123456789")[0] == 401
        assert admin(gateway, method, target, payload)[0] == 200, target
    assert admin(gateway, "GET", "/healthz", token=None)[0] == 200
    assert admin(gateway, "GET", "/readyz", token=None)[0] == 200


def test_bad_requests_are_400(gateway):
    assert admin(gateway, "GET", "/sessions")[0] == 400
    assert admin(gateway, "POST", "/sessions/revoke", {"appid": "wx"})[0] == 400
    assert admin(gateway, "POST", "/sessions/revoke", {"openid": "a", "sid": "b"})[0] == 400
    assert admin(gateway, "GET", "/sessions/revoke")[0] == 405


def test_non_loopback_admin_listener_without_token_fails_check(tmp_path, simulator):
    gw = AuthGateway(tmp_path, simulator)
    text = gw.config.read_text()
    gw.config.write_text(text.replace(f'admin_listen = "127.0.0.1:{gw.admin_port}"', f'admin_listen = "0.0.0.0:{gw.admin_port}"'))
    result = subprocess.run([GATEWAY_BIN, "check", "--config", str(gw.config)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "server.admin_token" in result.stderr
    with_admin_token(gw)
    result = subprocess.run([GATEWAY_BIN, "check", "--config", str(gw.config)], capture_output=True, text=True,
                            env=gw.env)
    assert result.returncode == 0, result.stderr


def sessions_cli(gw, *args, token=ADMIN_TOKEN):
    env = {**os.environ, "GATEWAY_ADMIN_TOKEN": token} if token else {
        k: v for k, v in os.environ.items() if k != "GATEWAY_ADMIN_TOKEN"}
    return subprocess.run([GATEWAY_BIN, "sessions", *args, "--config", str(gw.config)], capture_output=True,
                          text=True, env=env, timeout=30)


def test_cli_lists_and_revokes_against_the_running_gateway(gateway):
    openid = unique("cli")
    tokens = two_logins(gateway, openid)
    listed = sessions_cli(gateway, "list", "--openid", openid)
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["sessions"]) == 2
    url = f"http://127.0.0.1:{gateway.admin_port}"
    refused = sessions_cli(gateway, "list", "--openid", openid, "--admin", url, token=None)
    assert refused.returncode == 1 and "401" in refused.stderr
    revoked = sessions_cli(gateway, "revoke", "--openid", openid, "--reason", "cli test", "--admin", url,
                           "--admin-token", ADMIN_TOKEN, token=None)
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout) == {"revoked": 2}
    for t in tokens:
        assert api(gateway, t["access_token"]) == 401


def test_revoke_on_one_instance_is_refused_on_another(tmp_path, simulator, upstream, postgres):
    from test_fleet import Fleet

    fleet = Fleet(tmp_path, simulator, upstream, postgres.create_database())
    for member in fleet.members:
        with_admin_token(member)
    a, b = fleet.start()
    try:
        openid = unique("fleet-ops")
        tokens = two_logins(a, openid, other=b)
        for t in tokens:
            assert api(b, t["access_token"]) == 200
        status, _, body = admin(a, "POST", "/sessions/revoke", {"openid": openid})
        assert status == 200 and json.loads(body) == {"revoked": 2}
        for t in tokens:
            wait_for(lambda: api(b, t["access_token"]) == 401, timeout=20, interval=0.05,
                     what="the other instance to refuse the access token")
            assert b.refresh(t["refresh_token"])[0] == 400
    finally:
        fleet.stop()
