"""JWT minting for the proxy tests with the standard library only, independent of the gateway's code.

`mint(secret, sub)` gives a valid HS256 access token for the test config; the keyword options build
every kind of wrong token the gateway must refuse.
"""
import base64
import hashlib
import hmac
import json
import time
import uuid

SECRET = "integration-test-secret-0123456789abcdef"  # what the test configs put in [tokens] secret
ISSUER = "gateway"
AUDIENCE = "legacy-api"
APPID = "wx0000000000000001"
_OMIT = object()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _segment(value: dict) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def mint(
    sub: str,
    *,
    secret: str = SECRET,
    ttl: int = 3600,
    iss=ISSUER,
    aud=AUDIENCE,
    nbf=None,
    iat=_OMIT,
    exp=_OMIT,
    unionid: str | None = None,
    appid=APPID,
    alg: str = "HS256",
    kid: str | None = None,
    extra: dict | None = None,
    header_extra: dict | None = None,
    unsigned: bool = False,
) -> str:
    """An HS256 token. `alg` only changes the header (the signature stays HMAC-SHA256 with `secret`)
    unless `unsigned`, which gives an empty signature (the `alg: none` shape). Pass `iss=None` /
    `aud=None` to leave a claim out; `exp`/`iat` default to now+ttl / now."""
    now = int(time.time())
    header = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    header.update(header_extra or {})
    claims = {"sub": sub, "jti": uuid.uuid4().hex}
    if iss is not None:
        claims["iss"] = iss
    if aud is not None:
        claims["aud"] = aud
    claims["iat"] = now if iat is _OMIT else iat
    claims["exp"] = now + ttl if exp is _OMIT else exp
    if claims["iat"] is None:
        del claims["iat"]
    if claims["exp"] is None:
        del claims["exp"]
    if nbf is not None:
        claims["nbf"] = nbf
    if appid is not None:
        claims["appid"] = appid
    if unionid is not None:
        claims["unionid"] = unionid
    claims.update(extra or {})
    signing_input = _segment(header) + "." + _segment(claims)
    if unsigned:
        return signing_input + "."
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def alg_none(sub: str, **options) -> str:
    return mint(sub, alg="none", unsigned=True, **options)


def decode_part(token: str, index: int) -> dict:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
