"""docs/openapi.yaml against the gateway it describes (issue 24 item 6), so the two cannot drift apart:

- the document is valid OpenAPI 3.1 (openapi-spec-validator);
- its paths, methods, bearer security, request bodies and 429s are those of the control route table in the Swift
  sources, its error codes those of OAuthError.swift and GatewayError.swift, and the running gateway's 405 `Allow`
  names exactly the methods it lists;
- real answers of the gateway binary (against `gateway mock-wechat`) for every endpoint, success and the main
  refusals, are validated against it by openapi-core: status listed, required headers present and matching, content
  type listed, body matching the schema. The gateway's own answers on proxied requests are checked against the
  document's `Proxy…` responses.
"""
import base64
import functools
import hashlib
import json
import os
import re

import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import validate as validate_spec

from conftest import ROOT, free_port
from gateway_process import Gateway, bearer, unique
from openapi_checks import component_response_problems, headers_problems, schema_problems
from tokens import APPID, decode_part, mint
from wechat_simulator import AuthGateway, WeChatSimulator, header

DOCUMENT = ROOT / "docs" / "openapi.yaml"
CONTROL_SOURCES = ROOT / "Sources" / "GatewayCore" / "Control"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@functools.cache
def loaded_document():
    return yaml.safe_load(DOCUMENT.read_text())


@pytest.fixture(scope="module")
def document():
    return loaded_document()


@pytest.fixture(scope="module")
def spec(document):
    return OpenAPI.from_dict(document)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, simulator, upstream):
    gw = AuthGateway(tmp_path_factory.mktemp("openapi"), simulator, upstream_url=upstream.url).start()
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def strict_gateway(tmp_path_factory, simulator):
    """A wrong app secret, a one-request auth bucket and an upstream nobody listens on."""
    gw = AuthGateway(
        tmp_path_factory.mktemp("openapi-strict"), simulator, apps={APPID: "not-the-app-secret"},
        auth_per_minute=1, auth_burst=1, upstream_url=f"http://127.0.0.1:{free_port()}",
    ).start()
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def keyed_gateway(tmp_path_factory):
    """ES256 signing, with an RS256 and an EdDSA key from a rotation: a JWKS with each key type."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    workdir = tmp_path_factory.mktemp("openapi-keys")
    pem = serialization.Encoding.PEM
    (workdir / "es256.pem").write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    (workdir / "rs256.pub.pem").write_bytes(
        rsa.generate_private_key(65537, 2048).public_key().public_bytes(pem, public))
    (workdir / "eddsa.pub.pem").write_bytes(ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(pem, public))
    gw = Gateway(workdir, routes="")
    text = gw.config.read_text()
    signing = re.search(r'algorithm = "HS256"\nsecret = "[^"]*"\n', text)
    assert signing, "gateway_process.Gateway writes [tokens] differently: update this fixture"
    gw.config.write_text(
        text.replace(signing.group(0), f'algorithm = "ES256"\nprivate_key = "{workdir / "es256.pem"}"\n')
        + f'\n[[tokens.previous_keys]]\nalgorithm = "RS256"\npublic_key = "{workdir / "rs256.pub.pem"}"\n'
        + f'\n[[tokens.previous_keys]]\nalgorithm = "EdDSA"\npublic_key = "{workdir / "eddsa.pub.pem"}"\n'
    )
    gw.start()
    yield gw
    gw.stop()


# -- the document -----------------------------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")
    validate_spec(document)


def control_routes() -> dict[str, dict]:
    """The control route table as the Swift sources spell it: `ControlRoute([.POST], "/auth/login", rateLimit: ...,
    .form(...))`, by path: {methods, rate_limited, handlers}."""
    pattern = re.compile(
        r'ControlRoute\(\s*\[([^\]]*)\]\s*,\s*"([^"]+)"\s*,(?:\s*rateLimit:\s*\.(\w+)\s*,)?\s*\.(\w+)\(')
    routes: dict[str, dict] = {}
    for source in sorted(CONTROL_SOURCES.glob("*.swift")):
        for methods, path, rate_limit, handler in pattern.findall(source.read_text()):
            route = routes.setdefault(path, {"methods": set(), "rate_limited": False, "handlers": set()})
            route["methods"] |= {m.strip().lstrip(".").lower() for m in methods.split(",") if m.strip()}
            route["rate_limited"] |= rate_limit not in ("", "none")
            route["handlers"].add(handler)
    # The table as of issue 26: a parser that finds less is broken, not a smaller gateway.
    assert {"/auth/login", "/auth/token", "/auth/logout", "/.well-known/jwks.json"} <= routes.keys(), routes
    return routes


def test_every_control_route_is_in_the_document_and_nothing_else(document):
    routes = control_routes()
    assert sorted(document["paths"]) == sorted(routes), "docs/openapi.yaml paths differ from the control route table"
    for path, route in routes.items():
        item = document["paths"][path]
        documented = {method for method in METHODS if method in item}
        assert documented == route["methods"], (path, documented, route["methods"])
        for method in documented:
            operation = item[method]
            needs_bearer = bool(route["handlers"] & {"bearer", "bearerForm"})
            assert bool(operation.get("security")) == needs_bearer, (path, method, "bearer security")
            reads_body = bool(route["handlers"] & {"form", "bearerForm"})
            assert ("requestBody" in operation) == reads_body, (path, method, "request body")
            if reads_body:
                assert set(operation["requestBody"]["content"]) == {
                    "application/json", "application/x-www-form-urlencoded"}, (path, "FormBody takes both")
            # A route without a bucket may still relay WeChat's own rate limit as a 429.
            if route["rate_limited"]:
                assert "429" in operation["responses"], (path, method, "429")
            assert "405" in operation["responses"], (path, method, "405 with Allow")
            if needs_bearer:
                assert "401" in operation["responses"], (path, method, "401")


def error_codes(source: str) -> set[str]:
    """The string literals of `public var code: String { ... }` in a Swift file."""
    text = (ROOT / source).read_text()
    body = re.search(r"public var code: String \{\n(.*?)\n    \}\n", text, re.S)
    assert body, f"{source} has no `public var code: String`"
    return set(re.findall(r'return "([a-z_]+)"', body.group(1)))


def test_the_error_codes_are_those_of_the_sources(document):
    schemas = document["components"]["schemas"]
    oauth = error_codes("Sources/GatewayCore/Control/OAuthError.swift")
    gateway = error_codes("Sources/GatewayCore/Proxy/GatewayError.swift")
    # OAuthError's literals; its bearer refusals are GatewayError's answers (`MalformedAuthorizationError`,
    # `Unauthenticated`).
    assert set(schemas["OAuthError"]["properties"]["error"]["enum"]) == oauth
    assert set(schemas["GatewayError"]["properties"]["error"]["enum"]) == gateway


def test_each_path_allows_exactly_the_documented_methods(gateway, spec, document):
    for path, item in document["paths"].items():
        documented = sorted(method.upper() for method in METHODS if method in item)
        status, headers, body = checked(spec, gateway, "PATCH", path, body=b"{}")
        assert status == 405, (path, status, body)
        assert sorted(m.strip() for m in header(headers, "Allow").split(",")) == documented, path


# -- real answers -----------------------------------------------------------------------------------------------


def checked(spec, gw, method, target, headers=None, body=None, *, request_too=False):
    """Sends the request to the gateway and validates its answer against the document (openapi-core: status,
    headers, content type, body); with `request_too`, the request as well. Returns (status, headers, JSON)."""
    headers = dict(headers or {})
    status, response_headers, data = gw.request(method, target, headers, body)
    parsed = json.loads(data) if data and status != 204 and method != "HEAD" else None
    item = loaded_document()["paths"].get(target.split("?")[0], {})
    if method.lower() not in item:
        # The document's promise for a method a path does not list: 405 with `Allow` (404 for an unknown path
        # under /auth/, checked by its own test).
        assert status == 405, (method, target, status, parsed)
        assert component_response_problems(
            loaded_document(), "MethodNotAllowed", status, response_headers, data) == [], parsed
        return status, response_headers, parsed
    request = MockRequest(
        f"http://127.0.0.1:{gw.port}", method.lower(), target.split("?")[0], headers=headers, data=body or b"",
        content_type=headers.get("Content-Type"))
    response = MockResponse(
        data, status_code=status, headers=list(response_headers), content_type=header(response_headers, "Content-Type"))
    spec.validate_response(request, response)
    if request_too:
        spec.validate_request(request)
    return status, response_headers, parsed


def json_body(payload):
    return {"Content-Type": "application/json"}, json.dumps(payload).encode()


def form_body(text: str):
    return {"Content-Type": "application/x-www-form-urlencoded"}, text.encode()


def post(spec, gw, target, payload=None, *, form=None, token=None, extra=None, request_too=False):
    headers, body = form_body(form) if form is not None else json_body(payload if payload is not None else {})
    if token:
        headers.update(bearer(token))
    headers.update(extra or {})
    return checked(spec, gw, "POST", target, headers, body, request_too=request_too)


def expect(answer, status, error=None):
    got, headers, body = answer
    assert got == status, (got, body)
    if error is not None:
        assert body["error"] == error and header(headers, "X-Gateway-Error") == error, body
    return headers, body


def test_login_answers_match_the_document(gateway, spec):
    _, tokens = expect(post(spec, gateway, "/auth/login", {"code": f"openid:{unique('oa')}+union"},
                            request_too=True), 200)
    assert tokens["unionid"]
    claims = decode_part(tokens["access_token"], 1)
    assert schema_problems(loaded_document(), {"$ref": "#/components/schemas/AccessTokenClaims"}, claims) == []
    assert claims.keys() >= {"appid", "unionid", "sid"}
    expect(post(spec, gateway, "/auth/login", form=f"code=openid:{unique('oa')}&appid={APPID}", request_too=True),
           200)
    expect(post(spec, gateway, "/auth/login", {}), 400, "invalid_request")
    expect(post(spec, gateway, "/auth/login", {"code": "x" * 513}), 400, "invalid_request")
    expect(post(spec, gateway, "/auth/login", {"code": "openid:a", "appid": "wx-unknown"}), 400, "invalid_request")
    expect(checked(spec, gateway, "POST", "/auth/login", {"Content-Type": "text/plain"}, b"code=a"),
           400, "invalid_request")
    expect(post(spec, gateway, "/auth/login", {"code": f"invalid-{unique()}"}), 400, "invalid_grant")
    expect(post(spec, gateway, "/auth/login", {"code": f"blocked-{unique()}"}), 403, "access_denied")
    headers, _ = expect(post(spec, gateway, "/auth/login", {"code": f"limit-{unique()}"}), 429, "slow_down")
    assert header(headers, "Retry-After") == "60"
    headers, _ = expect(post(spec, gateway, "/auth/login", {"code": f"busy-{unique()}"}), 503,
                        "temporarily_unavailable")
    assert header(headers, "Retry-After") == "5"
    expect(post(spec, gateway, "/auth/login", {"code": "openid:al\tice"}), 502, "temporarily_unavailable")
    expect(checked(spec, gateway, "GET", "/auth/login"), 405, "invalid_request")
    expect(post(spec, gateway, "/auth/login", {"code": "x" * (64 * 1024)}), 413, "request_entity_too_large")


def test_token_answers_match_the_document(gateway, spec):
    tokens = gateway.login(f"openid:{unique('oa')}")
    _, rotated = expect(post(spec, gateway, "/auth/token",
                             form=f"grant_type=refresh_token&refresh_token={tokens['refresh_token']}",
                             request_too=True), 200)
    grant = {"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]}
    expect(post(spec, gateway, "/auth/token", grant, request_too=True), 200)
    expect(post(spec, gateway, "/auth/token", {"grant_type": "password"}), 400, "unsupported_grant_type")
    expect(post(spec, gateway, "/auth/token", {}), 400, "invalid_request")
    expect(post(spec, gateway, "/auth/token", form="grant_type=refresh_token&refresh_token=a&refresh_token=b"),
           400, "invalid_request")
    # The spent token again: its session ends.
    spent = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    expect(post(spec, gateway, "/auth/token", spent), 400, "invalid_grant")
    expect(checked(spec, gateway, "GET", "/auth/token"), 405, "invalid_request")


def test_revoke_and_logout_answers_match_the_document(gateway, spec):
    tokens = gateway.login(f"openid:{unique('oa')}")
    _, body = expect(post(spec, gateway, "/auth/revoke", form=f"token={tokens['refresh_token']}", request_too=True),
                     200)
    assert body == {}
    expect(post(spec, gateway, "/auth/revoke", {"token": "never-issued"}, request_too=True), 200)
    expect(post(spec, gateway, "/auth/revoke", {}), 400, "invalid_request")

    tokens = gateway.login(f"openid:{unique('oa')}")
    status, headers, _ = checked(spec, gateway, "POST", "/auth/logout", bearer(tokens["access_token"]),
                                 request_too=True)
    assert status == 204
    headers, _ = expect(checked(spec, gateway, "POST", "/auth/logout"), 401, "unauthorized")
    assert header(headers, "WWW-Authenticate") == 'Bearer realm="gateway"'
    headers, _ = expect(checked(spec, gateway, "POST", "/auth/logout", bearer(tokens["access_token"])),
                        401, "invalid_token")
    assert 'error="invalid_token"' in header(headers, "WWW-Authenticate")
    expect(checked(spec, gateway, "POST", "/auth/logout", {"Authorization": "Bearer a b"}), 400, "invalid_request")


def encrypted(session_key: str, document: dict) -> dict:
    """What wx.getUserInfo gives the mini-program: AES-128-CBC, PKCS#7, key = the base64-decoded session_key."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps(document).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(base64.b64decode(session_key)), modes.CBC(iv)).encryptor()
    data = encryptor.update(plain) + encryptor.finalize()
    return {"encryptedData": base64.b64encode(data).decode(), "iv": base64.b64encode(iv).decode()}


def test_userinfo_answers_match_the_document(gateway, simulator, spec):
    tokens = gateway.login(f"openid:{unique('oa')}")
    token = tokens["access_token"]
    session_key = simulator.session_key(tokens["openid"])
    document = {"openId": tokens["openid"], "nickName": "微信用户", "watermark": {"appid": APPID, "timestamp": 1}}
    payload = encrypted(session_key, document)
    raw = json.dumps({"nickName": "微信用户"})
    signature = hashlib.sha1((raw + session_key).encode()).hexdigest()
    _, body = expect(post(spec, gateway, "/auth/userinfo", {**payload, "rawData": raw, "signature": signature},
                          token=token, request_too=True), 200)
    assert body == document
    expect(post(spec, gateway, "/auth/userinfo", {"iv": payload["iv"]}, token=token), 400, "invalid_request")
    expect(post(spec, gateway, "/auth/userinfo", {**payload, "iv": "AAAA"}, token=token), 400, "invalid_request")
    other = encrypted(session_key, {**document, "watermark": {"appid": "wx-other", "timestamp": 1}})
    expect(post(spec, gateway, "/auth/userinfo", other, token=token), 400, "invalid_request")
    expect(post(spec, gateway, "/auth/userinfo", payload, token=mint(unique("never-logged-in"))), 400, "invalid_grant")
    expect(post(spec, gateway, "/auth/userinfo", payload), 401, "unauthorized")
    expect(post(spec, gateway, "/auth/userinfo", payload, extra={"Authorization": "Bearer a b"}), 400,
           "invalid_request")


def test_phone_answers_match_the_document(gateway, spec):
    token = gateway.login(f"openid:{unique('oa')}")["access_token"]
    _, body = expect(post(spec, gateway, "/auth/phone", {"code": "phone:13800001234"}, token=token,
                          request_too=True), 200)
    assert body["purePhoneNumber"] == "13800001234"
    expect(post(spec, gateway, "/auth/phone", {}, token=token), 400, "invalid_request")
    expect(post(spec, gateway, "/auth/phone", {"code": f"invalid-{unique()}"}, token=token), 400, "invalid_grant")
    expect(post(spec, gateway, "/auth/phone", {"code": "phone:1"}, token=mint("x", appid="wx-gone")), 400,
           "invalid_request")
    expect(post(spec, gateway, "/auth/phone", {"code": "phone:1"}, token=token + "x"), 401, "invalid_token")


def test_jwks_answers_match_the_document(gateway, keyed_gateway, spec):
    _, body = expect(checked(spec, gateway, "GET", "/.well-known/jwks.json", request_too=True), 200)
    assert body == {"keys": []}  # HS256: nothing public
    _, body = expect(checked(spec, keyed_gateway, "GET", "/.well-known/jwks.json"), 200)
    assert sorted(key["kty"] for key in body["keys"]) == ["EC", "OKP", "RSA"]
    status, _, _ = checked(spec, keyed_gateway, "HEAD", "/.well-known/jwks.json", request_too=True)
    assert status == 200
    headers, _ = expect(checked(spec, keyed_gateway, "POST", "/.well-known/jwks.json", body=b"{}"), 405,
                        "invalid_request")
    assert header(headers, "Allow") == "GET, HEAD"


def test_refusals_of_a_misconfigured_gateway_match_the_document(strict_gateway, spec, document):
    headers, _ = expect(post(spec, strict_gateway, "/auth/login", {"code": f"openid:{unique('oa')}"}), 503,
                        "temporarily_unavailable")
    assert header(headers, "Retry-After") is None  # the operator's to fix
    headers, _ = expect(post(spec, strict_gateway, "/auth/login", {"code": f"openid:{unique('oa')}"}), 429,
                        "slow_down")
    assert int(header(headers, "Retry-After")) >= 1
    answer = strict_gateway.request("GET", "/api/x", bearer(mint(unique("oa"))))
    assert answer[0] == 502 and component_response_problems(document, "ProxyBadGateway", *answer) == []


@pytest.mark.parametrize("target, headers, component, status", [
    ("/nothing/here", {}, "ProxyNotFound", 404),
    ("/api/x", {}, "ProxyUnauthorized", 401),
    ("/api/x", {"Authorization": "Bearer not.a.token"}, "ProxyUnauthorized", 401),
    ("/api/x", [("Authorization", "Bearer a"), ("Authorization", "Bearer b")], "ProxyBadRequest", 400),
    ("/auth/nothing", {}, "ControlNotFound", 404),
], ids=["no-route", "no-token", "bad-token", "two-authorization-fields", "unknown-auth-path"])
def test_the_gateways_own_answers_on_other_paths_match_the_document(gateway, document, target, headers, component,
                                                                    status):
    answer = gateway.request("GET", target, headers)
    assert answer[0] == status, answer
    assert component_response_problems(document, component, *answer) == []


@pytest.fixture(scope="module")
def web_gateway(tmp_path_factory, upstream):
    """A mini-program, an official account and a website (test_auth_web_login.py's apps) on one gateway."""
    from test_auth_web_login import KINDS, SECRETS

    workdir = tmp_path_factory.mktemp("openapi-web")
    sim = WeChatSimulator(SECRETS, workdir=workdir).start()
    gw = AuthGateway(workdir, sim, kinds=KINDS, upstream_url=upstream.url)
    try:
        gw.start()
        yield sim, gw
    finally:
        gw.stop()
        sim.stop()


def test_web_kinds_answers_match_the_document(web_gateway, spec):
    from test_auth_web_login import MINIPROGRAM, OFFICIAL_ACCOUNT, WEBSITE, authorize

    sim, gw = web_gateway
    code = authorize(sim, OFFICIAL_ACCOUNT, "snsapi_userinfo", f"openid:{unique('h5')}")
    _, h5 = expect(post(spec, gw, "/auth/login", {"code": code, "appid": OFFICIAL_ACCOUNT}, request_too=True), 200)
    claims = decode_part(h5["access_token"], 1)
    assert schema_problems(loaded_document(), {"$ref": "#/components/schemas/AccessTokenClaims"}, claims) == []
    assert claims["app_kind"] == "officialaccount"
    _, profile = expect(checked(spec, gw, "GET", "/auth/profile", bearer(h5["access_token"]), request_too=True), 200)
    assert profile["openid"] == h5["openid"]
    code = authorize(sim, WEBSITE, "snsapi_login", f"openid:{unique('site')}+union", "/connect/qrconnect")
    _, site = expect(post(spec, gw, "/auth/login", form=f"code={code}&appid={WEBSITE}", request_too=True), 200)
    _, profile = expect(checked(spec, gw, "GET", "/auth/profile", bearer(site["access_token"])), 200)
    assert profile.get("unionid") == site["unionid"]

    code = authorize(sim, OFFICIAL_ACCOUNT, "snsapi_base", f"openid:{unique('base')}")
    base = gw.login(code, appid=OFFICIAL_ACCOUNT)
    expect(checked(spec, gw, "GET", "/auth/profile", bearer(base["access_token"])), 403, "insufficient_scope")
    mini = gw.login(f"openid:{unique('mp')}", appid=MINIPROGRAM)
    expect(checked(spec, gw, "GET", "/auth/profile", bearer(mini["access_token"])), 400, "unauthorized_client")
    expect(checked(spec, gw, "GET", "/auth/profile"), 401, "unauthorized")
    expect(checked(spec, gw, "POST", "/auth/profile", bearer(h5["access_token"])), 405, "invalid_request")
    expect(post(spec, gw, "/auth/userinfo", {"encryptedData": "AAAA", "iv": "AAAA"}, token=h5["access_token"]),
           400, "unauthorized_client")
    expect(post(spec, gw, "/auth/phone", {"code": "phone:1"}, token=site["access_token"]), 400, "unauthorized_client")
    expect(post(spec, gw, "/auth/login", {"code": "snapshot-direct", "appid": OFFICIAL_ACCOUNT}), 403,
           "access_denied")
    expect(post(spec, gw, "/auth/login", {"code": f"invalid-{unique()}", "appid": WEBSITE}), 400, "invalid_grant")


ALLOWED_ORIGIN = "https://h5.example.com"


@pytest.fixture(scope="module")
def cors_gateway(tmp_path_factory, simulator, upstream):
    gw = AuthGateway(tmp_path_factory.mktemp("openapi-cors"), simulator, upstream_url=upstream.url)
    gw.config.write_text(gw.config.read_text() + f'\n[cors]\nallow_origins = ["{ALLOWED_ORIGIN}"]\n')
    gw.start()
    yield gw
    gw.stop()


def cors_fields(headers):
    return [name for name, _ in headers if name.lower().startswith("access-control-")]


@pytest.mark.parametrize("target", ["/auth/login", "/auth/logout", "/.well-known/jwks.json", "/api/x"])
def test_cors_preflights_match_the_document(cors_gateway, document, target):
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}
    answer = cors_gateway.request("OPTIONS", target, {"Origin": ALLOWED_ORIGIN, **ask})
    assert answer[0] == 204, answer
    assert component_response_problems(document, "CorsPreflight", *answer) == []
    answer = cors_gateway.request("OPTIONS", target, {"Origin": "https://other.example.net", **ask})
    assert answer[0] == 403, answer
    assert component_response_problems(document, "ProxyOriginNotAllowed", *answer) == []
    assert cors_fields(answer[1]) == []


def test_cors_fields_on_answers_match_the_document(cors_gateway, spec, document):
    headers = document["components"]["headers"]
    allowed = {"Access-Control-Allow-Origin": headers["Access-Control-Allow-Origin"],
               "Access-Control-Expose-Headers": {**headers["Access-Control-Expose-Headers"], "required": True},
               "Vary": headers["Vary-Origin"]}
    answer = post(spec, cors_gateway, "/auth/login", {"code": f"openid:{unique('oa')}"},
                  extra={"Origin": ALLOWED_ORIGIN}, request_too=True)
    expect(answer, 200)
    assert headers_problems(document, allowed, answer[1]) == []
    assert header(answer[1], "Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    answer = post(spec, cors_gateway, "/auth/token", {}, extra={"Origin": ALLOWED_ORIGIN})
    expect(answer, 400, "invalid_request")
    assert headers_problems(document, allowed, answer[1]) == []
    answer = post(spec, cors_gateway, "/auth/login", {}, extra={"Origin": "https://other.example.net"})
    expect(answer, 400, "invalid_request")
    assert cors_fields(answer[1]) == []
    assert headers_problems(document, {"Vary": headers["Vary-Origin"]}, answer[1]) == []
    answer = cors_gateway.request("GET", "/api/x", {"Origin": ALLOWED_ORIGIN})
    assert answer[0] == 401 and component_response_problems(document, "ProxyUnauthorized", *answer) == []
    assert headers_problems(document, allowed, answer[1]) == []


def test_a_document_that_says_otherwise_is_caught(gateway, document):
    """The checks are not vacuous: a token answer without `unionid` in the schema, or 400s listing only
    `invalid_grant`, fail against the same real answers."""
    import copy

    from openapi_core.validation.response.exceptions import DataValidationError

    wrong = copy.deepcopy(document)
    del wrong["components"]["schemas"]["TokenResponse"]["properties"]["unionid"]
    with pytest.raises(DataValidationError):
        post(OpenAPI.from_dict(wrong), gateway, "/auth/login", {"code": f"openid:{unique('oa')}+union"})
    wrong = copy.deepcopy(document)
    wrong["paths"]["/auth/token"]["post"]["responses"]["400"]["content"]["application/json"]["schema"]["allOf"][1] = {
        "properties": {"error": {"const": "invalid_grant"}}}
    with pytest.raises(DataValidationError):
        post(OpenAPI.from_dict(wrong), gateway, "/auth/token", {"grant_type": "password"})
    answer = gateway.request("GET", "/nothing/here")
    assert component_response_problems(document, "ProxyBadGateway", *answer) != []
