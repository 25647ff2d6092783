"""App kinds (issue 24 item 1): a mini-program, an official account page and a website log in through one gateway,
each with the WeChat API of its kind, against the real `gateway mock-wechat` and the real gateway binary.

    miniprogram      POST /auth/login → GET /sns/jscode2session
    officialaccount  POST /auth/login → GET /sns/oauth2/access_token (code from /connect/oauth2/authorize)
    website          POST /auth/login → GET /sns/oauth2/access_token (code from /connect/qrconnect)

The simulator counts the requests per path (`/__sim/calls`), so each test proves which API a login called.
"""
import base64
import http.client
import json
import secrets
import subprocess
import urllib.parse

import pytest

from conftest import GATEWAY_BIN, free_port, run_gateway, stop_process, wait_until_listening
from tokens import APPID, AUDIENCE, ISSUER, SECRET, mint
from upstream import header_values
from wechat_simulator import AuthGateway, WeChatSimulator

MINIPROGRAM = "wx00000000000000a1"
OFFICIAL_ACCOUNT = "wx00000000000000b2"
WEBSITE = "wx00000000000000c3"
SECRETS = {MINIPROGRAM: "mp-secret-4b1d", OFFICIAL_ACCOUNT: "oa-secret-9c2e", WEBSITE: "web-secret-7a3f"}
KINDS = {MINIPROGRAM: "miniprogram", OFFICIAL_ACCOUNT: "officialaccount", WEBSITE: "website"}
CALLBACK = "http://127.0.0.1:8080/h5/callback"


@pytest.fixture(scope="module")
def web(tmp_path_factory, upstream):
    workdir = tmp_path_factory.mktemp("web-login")
    sim = WeChatSimulator(SECRETS, workdir=workdir).start()
    gw = AuthGateway(workdir, sim, kinds=KINDS, upstream_url=upstream.url, log_level="debug").start()
    yield sim, gw
    gw.stop()
    sim.stop()


def calls(sim, path):
    status, body = sim.get("/__sim/calls", {"path": path})
    assert status == 200, body
    return body["count"]


def counts(sim):
    return {path: calls(sim, path) for path in ("/sns/jscode2session", "/sns/oauth2/access_token")}


def authorize(sim, appid, scope, user, page="/connect/oauth2/authorize"):
    """The code WeChat's authorization page hands the browser, read from the simulator's redirect."""
    state = secrets.token_urlsafe(16)
    query = urllib.parse.urlencode(
        {"appid": appid, "redirect_uri": CALLBACK, "response_type": "code", "scope": scope, "state": state,
         "sim_user": user})
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    try:
        conn.request("GET", f"{page}?{query}#wechat_redirect")
        response = conn.getresponse()
        response.read()
        assert response.status == 302, response.status
        location = urllib.parse.urlsplit(response.getheader("Location"))
    finally:
        conn.close()
    params = dict(urllib.parse.parse_qsl(location.query))
    assert location.geturl().startswith(CALLBACK + "?") and params["state"] == state
    return params["code"]


def claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def call_api(gw, token, headers=None):
    status, _, data = gw.request("GET", "/api/whoami", {"Authorization": f"Bearer {token}", **(headers or {})})
    assert status == 200, data
    return json.loads(data)


def test_miniprogram_login_calls_jscode2session(web):
    sim, gw = web
    before = counts(sim)
    body = gw.login("openid:mp-user", appid=MINIPROGRAM)
    assert counts(sim) == {"/sns/jscode2session": before["/sns/jscode2session"] + 1,
                           "/sns/oauth2/access_token": before["/sns/oauth2/access_token"]}
    assert body["openid"] == "mp-user"
    assert claims(body["access_token"])["app_kind"] == "miniprogram"
    echo = call_api(gw, body["access_token"])
    assert header_values(echo, "X-App-Kind") == ["miniprogram"]
    assert header_values(echo, "X-AppId") == [MINIPROGRAM]


@pytest.mark.parametrize(
    "appid, page, scope",
    [(OFFICIAL_ACCOUNT, "/connect/oauth2/authorize", "snsapi_base"), (WEBSITE, "/connect/qrconnect", "snsapi_login")])
def test_web_kinds_log_in_with_oauth2_access_token(web, appid, page, scope):
    sim, gw = web
    code = authorize(sim, appid, scope, f"openid:{KINDS[appid]}-user", page=page)
    before = counts(sim)
    body = gw.login(code, appid=appid)
    assert counts(sim) == {"/sns/jscode2session": before["/sns/jscode2session"],
                           "/sns/oauth2/access_token": before["/sns/oauth2/access_token"] + 1}
    assert body["openid"] == f"{KINDS[appid]}-user"
    assert claims(body["access_token"])["app_kind"] == KINDS[appid]
    assert set(body) >= {"access_token", "refresh_token", "expires_in", "openid"}
    echo = call_api(gw, body["access_token"])
    assert header_values(echo, "X-App-Kind") == [KINDS[appid]]
    assert header_values(echo, "X-AppId") == [appid]
    assert header_values(echo, "X-OpenId") == [f"{KINDS[appid]}-user"]
    # The refreshed token keeps the kind.
    status, _, refreshed = gw.refresh(body["refresh_token"])
    assert status == 200, refreshed
    assert claims(refreshed["access_token"])["app_kind"] == KINDS[appid]


def test_unionid_links_one_person_across_kinds(web):
    sim, gw = web
    mini = gw.login("openid:linda+union", appid=MINIPROGRAM)
    h5 = gw.login(authorize(sim, OFFICIAL_ACCOUNT, "snsapi_userinfo", "openid:linda+union"), appid=OFFICIAL_ACCOUNT)
    site = gw.login(authorize(sim, WEBSITE, "snsapi_login", "openid:linda+union", "/connect/qrconnect"), appid=WEBSITE)
    assert mini["unionid"] and mini["unionid"] == h5["unionid"] == site["unionid"]
    for body in (mini, h5, site):
        assert header_values(call_api(gw, body["access_token"]), "X-UnionId") == [mini["unionid"]]


@pytest.mark.parametrize(
    "code, status, error",
    [("invalid-web", 400, "invalid_grant"), ("limit-web", 429, "slow_down"), ("blocked-web", 403, "access_denied"),
     ("busy-web", 503, "temporarily_unavailable")])
def test_web_login_errcodes_map_like_jscode2session(web, code, status, error):
    _, gw = web
    got, headers, body = gw.post_json("/auth/login", {"code": code, "appid": OFFICIAL_ACCOUNT})
    assert (got, body["error"]) == (status, error), body
    if status == 429:
        assert [v for k, v in headers if k.lower() == "retry-after"] == ["60"]


def test_web_code_used_twice_is_invalid_grant(web):
    sim, gw = web
    code = authorize(sim, WEBSITE, "snsapi_login", "openid:twice", "/connect/qrconnect")
    gw.login(code, appid=WEBSITE)
    status, _, body = gw.post_json("/auth/login", {"code": code, "appid": WEBSITE})
    assert (status, body["error"]) == (400, "invalid_grant"), body


def test_snapshot_user_is_refused_403(web):
    sim, gw = web
    for code in ("snapshot-direct", authorize(sim, OFFICIAL_ACCOUNT, "snsapi_userinfo", "snapshot-page")):
        status, _, body = gw.post_json("/auth/login", {"code": code, "appid": OFFICIAL_ACCOUNT})
        assert (status, body["error"]) == (403, "access_denied"), body
        assert "snapshot" in body["error_description"]


def test_client_sent_app_kind_is_stripped(web):
    _, gw = web
    body = gw.login("openid:forger", appid=MINIPROGRAM)
    echo = call_api(gw, body["access_token"], {"X-App-Kind": "website", "x_app_kind": "officialaccount"})
    assert header_values(echo, "X-App-Kind") == ["miniprogram"]
    assert header_values(echo, "x_app_kind") == []


def test_token_without_app_kind_means_miniprogram_and_an_unknown_kind_is_refused(web):
    _, gw = web
    echo = call_api(gw, mint("old-user", appid=MINIPROGRAM))
    assert header_values(echo, "X-App-Kind") == ["miniprogram"]
    status, _, data = gw.request(
        "GET", "/api/whoami", {"Authorization": "Bearer " + mint("x", extra={"app_kind": "applet"})})
    assert status == 401, data


@pytest.mark.parametrize("appid", [OFFICIAL_ACCOUNT, WEBSITE])
def test_userinfo_and_phone_are_refused_for_web_kinds(web, appid):
    _, gw = web
    token = gw.login(f"openid:web-{appid}", appid=appid)["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    for endpoint, payload in (("/auth/userinfo", {"encryptedData": "AAAA", "iv": "AAAA"}), ("/auth/phone", {"code": "p"})):
        status, _, body = gw.post_json(endpoint, payload, headers=bearer)
        assert (status, body["error"]) == (400, "unauthorized_client"), body
        assert endpoint in body["error_description"] and "mini-programs only" in body["error_description"]
        assert KINDS[appid] in body["error_description"]


def profile(gw, token):
    status, _, data = gw.request("GET", "/auth/profile", {"Authorization": f"Bearer {token}"})
    return status, json.loads(data)


def test_profile_gives_nickname_and_avatar_for_userinfo_and_login_scopes(web):
    sim, gw = web
    h5 = gw.login(authorize(sim, OFFICIAL_ACCOUNT, "snsapi_userinfo", "openid:carol"), appid=OFFICIAL_ACCOUNT)
    status, body = profile(gw, h5["access_token"])
    assert status == 200, body
    assert body["nickname"] == "carol" and body["openid"] == "carol"
    assert body["headimgurl"].startswith("https://")
    site = gw.login(authorize(sim, WEBSITE, "snsapi_login", "openid:dan", "/connect/qrconnect"), appid=WEBSITE)
    assert profile(gw, site["access_token"])[1]["nickname"] == "dan"


def test_profile_is_refused_for_base_scope_and_for_miniprograms(web):
    sim, gw = web
    base = gw.login(authorize(sim, OFFICIAL_ACCOUNT, "snsapi_base", "openid:quiet"), appid=OFFICIAL_ACCOUNT)
    status, headers, data = gw.request("GET", "/auth/profile", {"Authorization": f"Bearer {base['access_token']}"})
    body = json.loads(data)
    assert (status, body["error"]) == (403, "insufficient_scope"), body
    assert "snsapi_userinfo" in body["error_description"]
    # RFC 6750 section 3.1: the challenge says which error, as the proxy path's insufficient_scope does.
    assert 'error="insufficient_scope"' in dict((k.lower(), v) for k, v in headers)["www-authenticate"]
    mini = gw.login("openid:mp-profile", appid=MINIPROGRAM)
    status, body = profile(gw, mini["access_token"])
    assert (status, body["error"]) == (400, "unauthorized_client"), body
    assert profile(gw, "not-a-token")[0] == 401


def test_profile_renews_an_expired_web_access_token(web):
    sim, gw = web
    body = gw.login(authorize(sim, OFFICIAL_ACCOUNT, "snsapi_userinfo", "openid:erin"), appid=OFFICIAL_ACCOUNT)
    status, expired = sim.get("/__sim/expire_web_tokens", {"openid": "erin"})
    assert status == 200 and expired["expired"] == 1
    renewals = calls(sim, "/sns/oauth2/refresh_token")
    status, answer = profile(gw, body["access_token"])
    assert status == 200 and answer["nickname"] == "erin", answer
    assert calls(sim, "/sns/oauth2/refresh_token") == renewals + 1
    # The renewed token was kept: the next calls use it and renew nothing.
    for _ in range(2):
        assert profile(gw, body["access_token"])[0] == 200
    assert calls(sim, "/sns/oauth2/refresh_token") == renewals + 1


def test_web_access_token_never_leaves_the_gateway(web):
    sim, gw = web
    users = ["openid:leak-a+union", "openid:leak-b"]
    answers = []
    for user in users:
        code = authorize(sim, OFFICIAL_ACCOUNT, "snsapi_userinfo", user)
        status, headers, data = gw.request(
            "POST", "/auth/login", {"Content-Type": "application/json"},
            json.dumps({"code": code, "appid": OFFICIAL_ACCOUNT}).encode())
        assert status == 200, data
        answers.append((headers, data))
        token = json.loads(data)["access_token"]
        sim.get("/__sim/expire_web_tokens", {"openid": user.removeprefix("openid:").removesuffix("+union")})
        for method, target in (("GET", "/auth/profile"), ("GET", "/api/x"), ("POST", "/auth/userinfo")):
            status, headers, data = gw.request(method, target, {"Authorization": f"Bearer {token}"})
            answers.append((headers, data))
    wechat_tokens = []
    for user in users:
        openid = user.removeprefix("openid:").removesuffix("+union")
        status, body = sim.get("/__sim/web_tokens", {"openid": openid})
        assert status == 200
        wechat_tokens += body["tokens"]
    assert len(wechat_tokens) >= 6, "each user: the first and the renewed access token, and the refresh token"
    texts = [json.dumps(headers) + data.decode("utf-8", "replace") for headers, data in answers]
    texts += [gw.stdout_path.read_text(errors="replace"), gw.stderr_path.read_text(errors="replace")]
    for token in wechat_tokens:
        for spelling in {token, urllib.parse.quote(token, safe=""), json.dumps(token)[1:-1]}:
            assert not any(spelling in text for text in texts), "a WeChat web token left the gateway"


def test_a_bad_kind_is_refused_naming_its_key_path(tmp_path):
    config = tmp_path / "gateway.conf"
    config.write_text(
        '[wechat]\napi_base = "http://127.0.0.1:9"\n'
        '[[wechat.apps]]\nappid = "wx1"\nsecret = "s"\n'
        '[[wechat.apps]]\nappid = "wx2"\nsecret = "s"\nkind = "h5"\n'
        '[tokens]\nalgorithm = "HS256"\nsecret = "integration-test-secret-0123456789abcdef"\n')
    result = run_gateway("check", "--config", str(config))
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "wechat.apps[1].kind" in output and '"h5" is not an app kind' in output, output


def test_demo_walks_through_the_web_login(tmp_path):
    """`gateway demo` adds an official account when the config has no web app, and logs in through it."""

    config = tmp_path / "gateway.conf"
    config.write_text(
        f'[server]\nlisten = "127.0.0.1:{free_port()}"\nadmin_listen = "127.0.0.1:{free_port()}"\n'
        f'[log]\naccess_log = false\n[wechat]\napi_base = "http://127.0.0.1:{free_port()}"\n'
        f'[[wechat.apps]]\nappid = "{APPID}"\nsecret = "s"\n'
        f'[tokens]\nissuer = "{ISSUER}"\naudience = "{AUDIENCE}"\nalgorithm = "HS256"\nsecret = "{SECRET}"\n'
        f'[store]\nurl = "sqlite://{tmp_path}/demo.db"\n'
        f'[[routes]]\nprefix = "/api/"\nupstreams = ["http://127.0.0.1:{free_port()}"]\n')
    result = run_gateway("demo", "--once", "--config", str(config), cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "kind = officialaccount" in out and "/connect/oauth2/authorize?" in out, out
    assert "302 Location: http://127.0.0.1:8080/h5/callback?code=" in out, out
    profile_line = next(line for line in out.splitlines() if '"nickname"' in line)
    assert json.loads(profile_line)["headimgurl"].startswith("https://"), out


def test_web_credentials_are_kept_by_a_postgresql_store(tmp_path, upstream, postgres):
    """The web tokens live where the session_key does, so a PostgreSQL fleet serves /auth/profile from any
    instance: one gateway logs the user in, another (same database) reads the profile."""
    sim = WeChatSimulator(SECRETS, workdir=tmp_path).start()
    url = postgres.create_database()
    first = AuthGateway(tmp_path, sim, kinds=KINDS, upstream_url=upstream.url, store_url=url, name="pg-a").start()
    second = AuthGateway(tmp_path, sim, kinds=KINDS, upstream_url=upstream.url, store_url=url, name="pg-b").start()
    try:
        body = first.login(authorize(sim, WEBSITE, "snsapi_login", "openid:pg-user", "/connect/qrconnect"), WEBSITE)
        status, answer = profile(second, body["access_token"])
        assert (status, answer["nickname"]) == (200, "pg-user"), answer
        db = url.rsplit("/", 1)[1].split("?")[0]
        stored = postgres.psql("SELECT session_key FROM wechat_users WHERE openid = 'pg-user'", db)
        assert '"access_token"' in stored and "snsapi_login" in stored
    finally:
        second.stop()
        first.stop()
        sim.stop()


def test_token_mint_names_the_app_kind(web):
    _, gw = web
    minted = run_gateway("token", "mint", "--openid", "ops", "--appid", WEBSITE, "--config", str(gw.config))
    assert minted.returncode == 0, minted.stderr
    assert claims(minted.stdout.strip())["app_kind"] == "website"
    named = run_gateway("token", "mint", "--openid", "ops", "--app-kind", "officialaccount", "--config", str(gw.config))
    assert claims(named.stdout.strip())["app_kind"] == "officialaccount"
    assert header_values(call_api(gw, named.stdout.strip()), "X-App-Kind") == ["officialaccount"]
    bad = run_gateway("token", "mint", "--openid", "ops", "--app-kind", "h5", "--config", str(gw.config))
    assert bad.returncode != 0 and "--app-kind" in bad.stderr, bad.stderr


def test_simulator_authorize_pages_never_redirect_to_an_unvalidated_place(tmp_path):
    """`gateway mock-wechat` as a process: loopback callbacks and --redirect-host ones get the 302 with code and
    state; an unknown appid, a foreign host, userinfo tricks or a missing redirect_uri get a 400 page."""
    port = free_port()
    process = subprocess.Popen(
        [GATEWAY_BIN, "mock-wechat", "--listen", f"127.0.0.1:{port}", "--appid", WEBSITE,
         "--secret", "s", "--redirect-host", "h5.example.com"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_listening(process, port, "mock-wechat")

    def get(params):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/connect/qrconnect?" + urllib.parse.urlencode(params))
            response = conn.getresponse()
            return response.status, response.getheader("Location"), response.read().decode()
        finally:
            conn.close()

    base = {"appid": WEBSITE, "response_type": "code", "scope": "snsapi_login", "state": "s-1_~x"}
    try:
        for allowed in ("http://127.0.0.1:3000/cb#/route", "https://h5.example.com/login"):
            status, location, _ = get({**base, "redirect_uri": allowed})
            assert status == 302 and "state=s-1_~x" in location, (allowed, status, location)
            assert location.startswith(allowed.split("#")[0] + "?code=")
        for refused in ({**base, "redirect_uri": "https://evil.example/cb"},
                        {**base, "redirect_uri": "http://127.0.0.1@evil.example/"},
                        {**base, "redirect_uri": "https://h5.example.com.evil.example/"},
                        {**base, "appid": "wxUNKNOWN", "redirect_uri": "http://127.0.0.1/"},
                        {k: v for k, v in base.items()}):
            status, location, page = get(refused)
            assert (status, location) == (400, None), (refused, status, location)
            assert page.startswith("<!doctype html>") and "<h1>" in page
    finally:
        stop_process(process)


def test_one_users_profile_calls_spend_a_per_user_bucket_and_others_are_unaffected(tmp_path, upstream):
    # Each profile call reaches WeChat's /sns/userinfo: like /auth/phone, it spends the user's [rate_limit] phone_*
    # bucket, so one token cannot spend the app's WeChat quota in a loop.
    sim = WeChatSimulator(SECRETS, workdir=tmp_path).start()
    gw = AuthGateway(tmp_path, sim, kinds=KINDS, upstream_url=upstream.url)
    gw.config.write_text(
        gw.config.read_text().replace("[rate_limit]\n", "[rate_limit]\nphone_per_minute = 1\nphone_burst = 2\n"))
    gw.start()
    try:
        eve = gw.login(authorize(sim, OFFICIAL_ACCOUNT, "snsapi_userinfo", "openid:eve"), appid=OFFICIAL_ACCOUNT)
        statuses = [profile(gw, eve["access_token"])[0] for _ in range(3)]
        assert statuses == [200, 200, 429], statuses
        status, headers, data = gw.request("GET", "/auth/profile", {"Authorization": f"Bearer {eve['access_token']}"})
        assert status == 429 and json.loads(data)["error"] == "slow_down"
        assert int(dict((k.lower(), v) for k, v in headers)["retry-after"]) >= 1
        frank = gw.login(authorize(sim, OFFICIAL_ACCOUNT, "snsapi_userinfo", "openid:frank"), appid=OFFICIAL_ACCOUNT)
        assert profile(gw, frank["access_token"])[0] == 200
        assert calls(sim, "/sns/userinfo") == 3
    finally:
        gw.stop()
        sim.stop()
