"""The client library in a real browser (issue 24 item 5): Debian's Chromium, headless, driven by Playwright.

An H5 page served from one loopback origin loads clients/miniprogram unchanged (browser.js on top of the same
createGatewayClient), goes through the WeChat simulator's authorize redirect, logs in at the gateway on another
origin (a real CORS preflight answered by the gateway), calls the upstream, refreshes when the short-lived access
token expires, and logs out. A page from an origin the gateway does not allow is blocked by the browser itself,
and a callback whose state the page did not store is refused before its code goes anywhere.
"""
import json
import urllib.parse

import pytest
from playwright.sync_api import sync_playwright

from conftest import wait_for
from gateway_process import bearer
from h5_harness import StaticSite, launch_chromium
from tokens import APPID, mint
from wechat_simulator import APP_SECRET, AuthGateway, WeChatSimulator

ACCESS_TTL_SECONDS = 4
SESSION_KEY = "wechat-gateway:gateway.session"
STATE_KEY = "wechat-gateway:oauth.state"


@pytest.fixture(scope="module")
def sites():
    allowed, other = StaticSite({}), StaticSite({})
    yield allowed, other
    allowed.stop()
    other.stop()


def browser_gateway(workdir, simulator, upstream, appid, kind, origin):
    """The gateway for a web app of `kind`, whose page at `origin` may call it (CORS), with short access tokens."""
    gw = AuthGateway(workdir, simulator, upstream_url=upstream.url)
    text = gw.config.read_text()
    app = f'[[wechat.apps]]\nappid = "{appid}"\n'
    assert app in text and 'access_ttl = "15m"' in text, "AuthGateway's config changed shape"
    text = text.replace(app, app + f'kind = "{kind}"\n')
    text = text.replace('access_ttl = "15m"', f'access_ttl = "{ACCESS_TTL_SECONDS}s"')
    text += f'\n[cors]\nallow_origins = ["{origin}"]\nmax_age = "10m"\n'
    gw.config.write_text(text)
    return gw.start()


def page_client(gw, simulator, appid, kind, scope):
    # refreshLeeway 0: the page renews exactly when the access token expires.
    return dict(baseURL=f"http://127.0.0.1:{gw.port}", appid=appid, kind=kind, scope=scope, openBase=simulator.url,
                refreshLeeway=0)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, simulator, upstream, sites):
    allowed, other = sites
    # Only the H5 page's origin: `other` (same host, another port) is another origin the gateway does not know.
    gw = browser_gateway(tmp_path_factory.mktemp("browser-h5"), simulator, upstream, APPID, "officialaccount",
                         allowed.origin)
    for site in sites:
        site.client.update(page_client(gw, simulator, APPID, "officialaccount", "snsapi_base"))
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()  # a fresh profile per test: its own localStorage
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def log_lines(gw, path, method=None):
    return [line for line in gw.access_log()
            if line.get("path") == path and (method is None or line.get("method") == method)]


def statuses_after(gw, path, method, since, count):
    """The statuses of the access-log lines for `method path` after the first `since`, once `count` of them
    are written (the log is written after the answer, so it may lag the browser by a moment)."""
    wait_for(lambda: len(log_lines(gw, path, method)) >= since + count, what=f"{count} x {method} {path} logged")
    return [line["status"] for line in log_lines(gw, path, method)][since:]


def barrier(gw, marker):
    """A request of the test's own, waited for in the access log: lines of anything the browser sent before
    it are written by then, so their absence means the browser sent nothing."""
    gw.request("GET", f"/api/{marker}")
    wait_for(lambda: log_lines(gw, f"/api/{marker}"), what=f"GET /api/{marker} logged")


def run(page, script):
    """Evaluates `script` (an expression giving a promise) through the page's `outcome`: {ok, value} or
    {ok: false, name, code, reason, message}."""
    return page.evaluate(f"() => outcome({script})")


def log_in_through_wechat(page, site):
    """The page's login: to the simulator's authorize page and back with code and state, then /auth/login."""
    page.goto(site.url())
    page.evaluate("() => { gw.login() }")  # sends the browser away; the page it returns to finishes the login
    page.wait_for_function("() => window.loginOutcome !== undefined")
    return page.evaluate("() => window.loginOutcome")


def wechat_calls(simulator, path) -> int:
    """How often the gateway called `path` on the simulator (its `/__sim/calls` hook)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", simulator.port, timeout=10)
    try:
        conn.request("GET", "/__sim/calls?" + urllib.parse.urlencode({"path": path}))
        return json.loads(conn.getresponse().read())["count"]
    finally:
        conn.close()


def upstream_header(echo, name):
    return [value for key, value in echo["headers"] if key.lower() == name.lower()]


def stored_session(page):
    return json.loads(page.evaluate(f"() => localStorage.getItem('{SESSION_KEY}')") or "null")


def test_h5_page_logs_in_through_wechat_calls_the_api_across_origins_refreshes_and_logs_out(
        page, sites, gateway, simulator, upstream):
    allowed, _ = sites
    navigations = []
    page.on("request", lambda request: navigations.append(request.url) if request.is_navigation_request() else None)

    before = {key: len(log_lines(gateway, *key)) for key in [
        ("/auth/login", "OPTIONS"), ("/auth/login", "POST"), ("/auth/logout", "POST")]}
    exchanges = {path: wechat_calls(simulator, path) for path in ("/sns/oauth2/access_token", "/sns/jscode2session")}
    login = log_in_through_wechat(page, allowed)
    assert login["ok"], login
    # The official account's code was exchanged the web way, not as a mini-program's.
    assert wechat_calls(simulator, "/sns/oauth2/access_token") == exchanges["/sns/oauth2/access_token"] + 1
    assert wechat_calls(simulator, "/sns/jscode2session") == exchanges["/sns/jscode2session"]
    openid = login["value"]["openid"]
    # The browser went to the simulator's authorize page with a random state and came back with code and state.
    authorize = [url for url in navigations if url.startswith(simulator.url + "/connect/oauth2/authorize?")]
    assert len(authorize) == 1, navigations
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize[0]).query)
    assert query["appid"] == [APPID] and query["scope"] == ["snsapi_base"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [allowed.url()]
    callback = [url for url in navigations if url.startswith(allowed.url() + "?code=")]
    assert len(callback) == 1 and f"state={query['state'][0]}" in callback[0], navigations
    assert page.url == allowed.url()  # code and state are gone from the address bar
    assert page.evaluate(f"() => localStorage.getItem('{STATE_KEY}')") is None  # the state is spent
    # /auth/login was a cross-origin POST with a JSON body: the browser asked first, and the gateway answered.
    assert statuses_after(gateway, "/auth/login", "OPTIONS", before["/auth/login", "OPTIONS"], 1) == [204]
    assert statuses_after(gateway, "/auth/login", "POST", before["/auth/login", "POST"], 1) == [200]

    first = run(page, "gw.request({ url: '/api/whoami' })")
    assert first["ok"] and first["value"]["statusCode"] == 200, first
    echo = first["value"]["data"]
    assert upstream_header(echo, "X-OpenId") == [openid]
    assert upstream_header(echo, "X-AppId") == [APPID]
    assert upstream_header(echo, "X-App-Kind") == ["officialaccount"]
    assert upstream_header(echo, "Origin") == [allowed.origin]
    # The preflight for the bearer token was the gateway's own: answered, never forwarded to the upstream.
    assert statuses_after(gateway, "/api/whoami", "OPTIONS", 0, 1) == [204]
    assert [r["method"] for r in upstream.requests if r["target"] == "/api/whoami"] == ["GET"]
    token_before = stored_session(page)["accessToken"]

    # The access token expires; the next call renews it first (one POST /auth/token), then goes out.
    expires_at = stored_session(page)["expiresAt"]
    page.wait_for_function(f"() => Date.now() > {expires_at}")
    refreshes = len(log_lines(gateway, "/auth/token", "POST"))
    second = run(page, "gw.request({ url: '/api/after-expiry' })")
    assert second["ok"] and second["value"]["statusCode"] == 200, second
    assert statuses_after(gateway, "/auth/token", "POST", refreshes, 1) == [200]
    echo = second["value"]["data"]
    assert upstream_header(echo, "X-OpenId") == [openid]
    assert stored_session(page)["accessToken"] != token_before and stored_session(page)["expiresAt"] > expires_at

    renewed = stored_session(page)
    out = run(page, "gw.logout()")
    assert out == {"ok": True, "value": {"revoked": True}}, out
    assert statuses_after(gateway, "/auth/logout", "POST", before["/auth/logout", "POST"], 1) == [204]
    assert stored_session(page) is None and page.evaluate("() => gw.session()") is None
    # The session is over at the gateway too, not only in the page.
    assert gateway.request("GET", "/api/after-logout", bearer(renewed["accessToken"]))[0] == 401
    assert gateway.refresh(renewed["refreshToken"])[0] == 400


def test_page_from_an_origin_the_gateway_does_not_allow_is_blocked_by_the_browser(
        browser, sites, gateway, upstream):
    allowed, other = sites
    mine, theirs = browser.new_context(), browser.new_context()
    try:
        page, foreign = mine.new_page(), theirs.new_page()
        assert log_in_through_wechat(page, allowed)["ok"]
        assert run(page, "gw.request({ url: '/api/from-allowed' })")["value"]["statusCode"] == 200

        # The same page, the same library and a valid session, from another origin: the browser withholds the
        # answer (no Access-Control-Allow-Origin for it), so the library sees no answer at all.
        foreign.goto(other.url())
        foreign.evaluate("([key, value]) => localStorage.setItem(key, value)",
                         [SESSION_KEY, json.dumps(stored_session(page))])
        blocked = run(foreign, "gw.request({ url: '/api/from-other-origin' })")
        assert blocked["ok"] is False and blocked["name"] == "GatewayNetworkError", blocked
        assert "Failed to fetch" in blocked["message"]
        # The preflight was refused, so the GET itself never left the browser: nothing reached the upstream.
        assert not [r for r in upstream.requests if r["target"] == "/api/from-other-origin"]
        # The gateway answered the preflight itself, refusing that origin (no Access-Control-Allow-Origin).
        assert statuses_after(gateway, "/api/from-other-origin", "OPTIONS", 0, 1) == [403]

        # Its own login is blocked the same way: the code comes back from WeChat, the POST never goes out.
        posts = len(log_lines(gateway, "/auth/login", "POST"))
        foreign.evaluate(f"() => localStorage.removeItem('{SESSION_KEY}')")
        refused = log_in_through_wechat(foreign, other)
        assert refused["ok"] is False and refused["name"] == "GatewayNetworkError", refused
        barrier(gateway, "after-the-other-origin")
        assert len(log_lines(gateway, "/auth/login", "POST")) == posts
        assert not log_lines(gateway, "/api/from-other-origin", "GET")
    finally:
        mine.close()
        theirs.close()


def wechat_code(simulator, redirect_uri) -> str:
    """A real code from the simulator's authorize page, as WeChat would put it on the callback."""
    import http.client

    query = urllib.parse.urlencode({"appid": APPID, "redirect_uri": redirect_uri, "response_type": "code",
                                    "scope": "snsapi_base", "state": "x"})
    conn = http.client.HTTPConnection("127.0.0.1", simulator.port, timeout=10)
    try:
        conn.request("GET", f"/connect/oauth2/authorize?{query}")
        response = conn.getresponse()
        response.read()
        assert response.status == 302, response.status
        location = response.getheader("Location")
    finally:
        conn.close()
    return urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]


def test_callback_with_a_state_the_page_did_not_store_is_refused_and_its_code_never_sent(
        page, sites, gateway, simulator):
    allowed, _ = sites
    page.goto(allowed.url())
    page.evaluate(f"() => localStorage.setItem('{STATE_KEY}', JSON.stringify('{'a' * 32}'))")
    code = wechat_code(simulator, allowed.url())
    logins = len(log_lines(gateway, "/auth/login"))

    page.goto(allowed.url(f"/app.html?code={code}&state={'b' * 32}"))
    page.wait_for_function("() => window.loginOutcome !== undefined")
    outcome = page.evaluate("() => window.loginOutcome")
    assert outcome["ok"] is False and outcome["name"] == "GatewayLoginError", outcome
    assert outcome["reason"] == "invalid_state" and "its code was not sent" in outcome["message"]
    barrier(gateway, "after-the-forged-callback")
    assert len(log_lines(gateway, "/auth/login")) == logins  # no preflight, no POST: nothing went out
    assert page.url == allowed.url()
    assert page.evaluate(f"() => localStorage.getItem('{STATE_KEY}')") is None
    assert page.evaluate("() => gw.session()") is None
    # The code itself was good: only the state check kept it from logging this browser in.
    status, _, body = gateway.post_json("/auth/login", {"code": code, "appid": APPID})
    assert status == 200, body


def test_callback_replayed_after_a_login_is_refused(page, sites, gateway):
    allowed, _ = sites
    callbacks = []
    page.on("request", lambda r: callbacks.append(r.url) if "?code=" in r.url and r.is_navigation_request() else None)
    assert log_in_through_wechat(page, allowed)["ok"]
    assert len(callbacks) == 1
    page.evaluate(f"() => localStorage.removeItem('{SESSION_KEY}')")
    logins = len(log_lines(gateway, "/auth/login", "POST"))

    page.goto(callbacks[0])  # the same code and state again: from history, a shared link, an attacker
    page.wait_for_function("() => window.loginOutcome !== undefined")
    outcome = page.evaluate("() => window.loginOutcome")
    assert outcome["ok"] is False and outcome["reason"] == "invalid_state", outcome
    barrier(gateway, "after-the-replayed-callback")
    assert len(log_lines(gateway, "/auth/login", "POST")) == logins
    wait_for(lambda: page.url == allowed.url(), what="the address bar without code and state")


WEBSITE_APPID = "wx00000000000000w1"


@pytest.fixture(scope="module")
def website(tmp_path_factory, upstream):
    """A website app (QR login) with its own simulator, gateway and page origin."""
    simulator = WeChatSimulator({WEBSITE_APPID: APP_SECRET}).start()
    site = StaticSite({})
    gw = None
    try:
        gw = browser_gateway(tmp_path_factory.mktemp("browser-website"), simulator, upstream, WEBSITE_APPID,
                             "website", site.origin)
        site.client.update(page_client(gw, simulator, WEBSITE_APPID, "website", "snsapi_login"))
        yield gw, simulator, site
    finally:
        if gw is not None:
            gw.stop()
        site.stop()
        simulator.stop()


def test_website_logs_in_through_the_qr_login_page_and_calls_the_api(page, website, upstream):
    gateway, simulator, site = website
    navigations = []
    page.on("request", lambda request: navigations.append(request.url) if request.is_navigation_request() else None)
    exchanges = wechat_calls(simulator, "/sns/oauth2/access_token")

    login = log_in_through_wechat(page, site)
    assert login["ok"], login
    qr = [url for url in navigations if url.startswith(simulator.url + "/connect/qrconnect?")]
    assert len(qr) == 1, navigations
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(qr[0]).query)
    assert query["appid"] == [WEBSITE_APPID] and query["scope"] == ["snsapi_login"]
    assert wechat_calls(simulator, "/sns/oauth2/access_token") == exchanges + 1
    assert page.url == site.url()

    answer = run(page, "gw.request({ url: '/api/website-orders', method: 'POST', data: { item: 7 } })")
    assert answer["ok"] and answer["value"]["statusCode"] == 200, answer
    echo = answer["value"]["data"]
    assert echo["method"] == "POST" and json.loads(echo["body"]) == {"item": 7}
    assert upstream_header(echo, "X-OpenId") == [login["value"]["openid"]]
    assert upstream_header(echo, "X-AppId") == [WEBSITE_APPID]
    assert upstream_header(echo, "X-App-Kind") == ["website"]


def test_gateway_401_is_read_across_origins_and_concurrent_requests_share_one_refresh(page, sites, gateway, upstream):
    allowed, _ = sites
    login = log_in_through_wechat(page, allowed)
    assert login["ok"], login
    # The page's access token is one the gateway refuses (signed with another key), its refresh token still good:
    # only the gateway's X-Gateway-Error mark, exposed to the page by CORS, lets the library tell that 401 apart
    # from an upstream's and renew.
    session = stored_session(page)
    session["accessToken"] = mint(login["value"]["openid"], secret="not-the-gateway-key-0123456789abcdef")
    page.evaluate("([key, value]) => localStorage.setItem(key, value)", [SESSION_KEY, json.dumps(session)])
    refreshes = len(log_lines(gateway, "/auth/token", "POST"))

    answers = run(page, "Promise.all([0, 1, 2, 3, 4].map((i) => gw.request({ url: '/api/together-' + i })))")
    assert answers["ok"], answers
    assert [answer["statusCode"] for answer in answers["value"]] == [200] * 5
    # One refresh for the five (the library's single flight, in the browser), then each request replayed once.
    assert statuses_after(gateway, "/auth/token", "POST", refreshes, 1) == [200]
    barrier(gateway, "after-the-concurrent-requests")
    assert len(log_lines(gateway, "/auth/token", "POST")) == refreshes + 1
    for i in range(5):
        assert [line["status"] for line in log_lines(gateway, f"/api/together-{i}", "GET")] == [401, 200]
        reached = [r for r in upstream.requests if r["target"] == f"/api/together-{i}"]
        assert len(reached) == 1 and upstream_header(reached[0], "X-OpenId") == [login["value"]["openid"]]
