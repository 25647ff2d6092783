import JSON
import NIOHTTP1
import SessionStore
import Tokens
import WeChat

/// Every refusal of the control plane in one table: its status, its `error` code and `error_description`
/// (RFC 6749 section 5.2; RFC 7009 section 2.2.1; RFC 6750 section 3 for bearer tokens), and its headers
/// (`Retry-After`, `Allow`, `WWW-Authenticate`). Handlers throw one; `AuthEndpoints` sends `response(...)`.
/// Descriptions are for people and never hold a token, a secret or WeChat's own message.
public enum OAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which WeChat code a client sent: codes are single use, so the description says how to get a fresh one.
    public enum WeChatCode: Sendable, Equatable {
        /// `/auth/login`'s code, from `wx.login()`.
        case login
        /// `/auth/phone`'s code, from the phone-number button.
        case phoneNumber
        /// `/auth/login`'s code for an official account page or a website, from WeChat's authorization page.
        case webLogin
    }

    // The request: 400 `invalid_request` unless said otherwise.
    /// The body is neither a form nor one JSON object (`FormBody.Failure` says which rule it broke).
    case malformedBody(FormBody.Failure)
    /// A parameter that must be present and not empty is not; the text names it.
    case missingParameter(String)
    /// `/auth/userinfo` without its `encryptedData` and `iv`.
    case missingEncryptedData
    /// A login code longer than any WeChat issues.
    case codeTooLong
    case unknownAppID
    /// Several apps are configured and the login named none.
    case appIDRequired
    /// An access token without the `appid` claim, where the user's app must be known.
    case tokenNamesNoAppID
    /// The access token's app is not (or no longer) configured here.
    case tokenAppIDNotConfigured
    /// A fault in the shape of `encryptedData` or `iv` the client can fix; the text is `WeChatError`'s own.
    case malformedUserData(String)
    /// Anything found after decrypting, or the signature: one answer (see `init(userDataFailure:)`).
    case userDataNotVerifiable
    /// 405, with `Allow` (RFC 9110 section 15.5.6).
    case methodNotAllowed(allowed: [HTTPMethod])
    /// 404 `not_found`: a path under `/auth/` that no route has.
    case noSuchEndpoint
    case unsupportedGrantType
    /// 400 `unauthorized_client` (RFC 6749 section 5.2): the token's kind of app cannot use this endpoint
    /// (`/auth/userinfo` and `/auth/phone` are the mini-program's, `/auth/profile` the web kinds').
    case endpointNotForAppKind(endpoint: String, kind: AppKind)

    // The grant: 400 `invalid_grant`.
    /// WeChat refused the code: invalid, expired or already used.
    case codeRefused(WeChatCode)
    /// RFC 9700 section 4.14.2: a spent refresh token again; its session has been revoked.
    case refreshTokenReused
    case refreshTokenExpired
    case sessionEnded
    case refreshTokenNotValid
    /// No session_key is stored for the token's user.
    case noWeChatSession

    // The caller.
    /// The bearer token of `/auth/logout`, `/auth/userinfo` or `/auth/phone`: the proxy path's answer
    /// (`GatewayError.authentication`), so a client handles a 401 from either alike.
    case unauthenticated(AuthRejection)
    /// 429 `slow_down`: a `[rate_limit]` bucket is empty.
    case tooManyRequests(retryAfter: Int)
    /// 429 `slow_down`: WeChat's own rate limit (errcode 45011).
    case wechatRateLimited
    /// 403 `access_denied`: WeChat refused the user (errcode 40226).
    case wechatRefusedUser
    /// 403 `access_denied`: a snapshot-mode virtual user (`is_snapshotuser = 1`), whose openid is no real user's.
    case snapshotUser
    /// 403 `insufficient_scope` (RFC 6750 section 3.1): the user's web login did not grant what the endpoint reads.
    case insufficientScope(String)
    /// 400 `invalid_grant`: WeChat no longer accepts the user's web authorization (its refresh token expired).
    case webAuthorizationExpired

    // What the gateway depends on: `temporarily_unavailable`, 503 unless said otherwise.
    case wechatUnavailable(WeChatCode)
    /// The gateway's appid or secret is wrong: the operator's to fix, so no `Retry-After`.
    case wechatMisconfigured
    /// 502: WeChat answered with something the gateway will not pass on.
    case wechatAnsweredUnexpectedly
    /// The store failed; nothing changed that the client must know about (or the change was refused whole), so
    /// the same request is safe to send again once the store is back. The error is logged, never sent.
    case storeUnavailable(SessionStoreError)
    /// 500 `server_error`: an access token could not be signed.
    case tokenNotIssued

    public var status: HTTPResponseStatus {
        switch self {
        case .methodNotAllowed: return .methodNotAllowed
        case .noSuchEndpoint: return .notFound
        case .unauthenticated(let rejection): return GatewayError.authentication(rejection).status
        case .tooManyRequests, .wechatRateLimited: return .tooManyRequests
        case .wechatRefusedUser, .snapshotUser, .insufficientScope: return .forbidden
        case .wechatUnavailable, .wechatMisconfigured, .storeUnavailable: return .serviceUnavailable
        case .wechatAnsweredUnexpectedly: return .badGateway
        case .tokenNotIssued: return .internalServerError
        default: return .badRequest
        }
    }

    /// The `error` member, and the `X-Gateway-Error` mark.
    public var code: String {
        switch self {
        case .noSuchEndpoint: return "not_found"
        case .unsupportedGrantType: return "unsupported_grant_type"
        case .codeRefused, .refreshTokenReused, .refreshTokenExpired, .sessionEnded, .refreshTokenNotValid,
            .noWeChatSession, .webAuthorizationExpired:
            return "invalid_grant"
        case .endpointNotForAppKind: return "unauthorized_client"
        case .insufficientScope: return "insufficient_scope"
        case .snapshotUser: return "access_denied"
        case .unauthenticated(let rejection): return GatewayError.authentication(rejection).code
        case .tooManyRequests, .wechatRateLimited: return "slow_down"
        case .wechatRefusedUser: return "access_denied"
        case .wechatUnavailable, .wechatMisconfigured, .wechatAnsweredUnexpectedly, .storeUnavailable:
            return "temporarily_unavailable"
        case .tokenNotIssued: return "server_error"
        default: return "invalid_request"
        }
    }

    /// The `error_description` member.
    public var description: String {
        switch self {
        case .malformedBody(let failure): return failure.description
        case .missingParameter(let name): return "\(name) is required"
        case .missingEncryptedData: return "encryptedData and iv are required"
        case .codeTooLong: return "code is too long"
        case .unknownAppID: return "unknown appid"
        case .appIDRequired: return "appid is required: several apps are configured"
        case .tokenNamesNoAppID: return "the token names no appid"
        case .tokenAppIDNotConfigured: return "the token's appid is not configured here"
        case .malformedUserData(let fault): return fault
        case .userDataNotVerifiable:
            return "encryptedData could not be decrypted and checked with this user's session: the session_key may be "
                + "stale (call wx.login, log in again and retry) or the data was altered"
        case .methodNotAllowed(let allowed): return "use " + allowed.map(\.rawValue).joined(separator: " or ")
        case .noSuchEndpoint: return "no such endpoint"
        case .unsupportedGrantType: return "only refresh_token is supported"
        case .codeRefused(let code): return "the code is invalid, expired or already used; \(code.renewal) again"
        case .refreshTokenReused: return "the refresh token was already used; log in again"
        case .refreshTokenExpired: return "the refresh token has expired"
        case .sessionEnded: return "the session has ended"
        case .refreshTokenNotValid: return "the refresh token is not valid"
        case .noWeChatSession: return "no WeChat session for this user; log in again"
        case .unauthenticated(let rejection): return GatewayError.authentication(rejection).message
        case .tooManyRequests: return "too many requests; retry later"
        case .wechatRateLimited: return "WeChat rate limit reached; retry later"
        case .wechatRefusedUser: return "WeChat refused this user"
        case .snapshotUser:
            return "a snapshot-mode virtual user (is_snapshotuser=1) cannot log in: the page was opened in a Moments "
                + "snapshot; open it in WeChat itself to log in"
        case .insufficientScope(let reason): return reason
        case .webAuthorizationExpired:
            return "WeChat's authorization for this user has expired; send the user through WeChat's authorization "
                + "page and log in again"
        case .endpointNotForAppKind(let endpoint, let kind):
            let article = kind == .officialaccount ? "an" : "a"
            return kind == .miniprogram
                ? "\(endpoint) is for officialaccount and website apps; this token was issued for a miniprogram app"
                : "\(endpoint) is for mini-programs only; this token was issued for \(article) \(kind.rawValue) app"
        case .wechatUnavailable(let code): return "WeChat is unavailable; \(code.renewal) and retry"
        case .wechatMisconfigured: return "the gateway's WeChat app is misconfigured"
        case .wechatAnsweredUnexpectedly: return "WeChat answered unexpectedly"
        case .storeUnavailable: return "the session store is unavailable"
        case .tokenNotIssued: return "could not issue a token"
        }
    }

    /// The mark (`GatewayError.markField`) first, then what the client needs to act: when to retry, which methods
    /// to use, or the RFC 6750 challenge (`realm` is the configured issuer).
    public func headers(realm: String) -> [(String, String)] {
        let mark = (GatewayError.markField, code)
        switch self {
        case .unauthenticated(let rejection): return GatewayError.authentication(rejection).headers(realm: realm)
        case .methodNotAllowed(let allowed):
            return [mark, ("Allow", allowed.map(\.rawValue).joined(separator: ", "))]
        case .tooManyRequests(let seconds): return [mark, ("Retry-After", String(seconds))]
        case .wechatRateLimited: return [mark, ("Retry-After", "60")]
        case .wechatUnavailable: return [mark, ("Retry-After", "5")]
        case .storeUnavailable: return [mark, ("Retry-After", "2")]
        // RFC 6750 section 3.1: a valid token without the scope asked for is answered with the challenge that says
        // so, as the proxy path's `appNotAllowed` is.
        case .insufficientScope:
            return [mark, ("WWW-Authenticate", "Bearer realm=\"\(realm)\", error=\"insufficient_scope\"")]
        default: return [mark]
        }
    }

    /// The answer: `{"error": ..., "error_description": ...}` with `Cache-Control: no-store`. A bearer refusal is
    /// the proxy path's body, `request_id` included.
    public func response(requestID: String, realm: String) -> ControlResponse {
        if case .unauthenticated(let rejection) = self {
            let error = GatewayError.authentication(rejection)
            return ControlResponse.json(
                error.status, error.jsonBody(requestID: requestID), extraHeaders: headers(realm: realm))
        }
        var body = JSONObjectWriter()
        body.member("error", code)
        body.member("error_description", description)
        return ControlResponse.json(status, body.text, extraHeaders: headers(realm: realm))
    }
}

extension OAuthError.WeChatCode {
    /// How the client gets a fresh code: a code is never retried as it is (docs/wechat.md).
    var renewal: String {
        switch self {
        case .login: return "call wx.login"
        case .phoneNumber: return "ask for the phone number"
        case .webLogin: return "send the user through WeChat's authorization page"
        }
    }
}

extension OAuthError {
    /// The login errors of README.md, "HTTP endpoints of the gateway"; phone-number codes fail the same ways.
    public init(wechatFailure error: WeChatError, code: WeChatCode) {
        switch error {
        case .invalidCode, .codeUsed: self = .codeRefused(code)
        case .rateLimited: self = .wechatRateLimited
        case .riskyUser: self = .wechatRefusedUser
        case .systemBusy, .unavailable: self = .wechatUnavailable(code)
        case .invalidAppID, .invalidSecret: self = .wechatMisconfigured
        // `.malformedAnswer` among them: WeChat did answer, with something the gateway will not pass on (an id that
        // could not be a header).
        default: self = .wechatAnsweredUnexpectedly
        }
    }

    /// What the client hears when its encrypted data is refused. Faults in the shape of the input (base64, the iv's
    /// length, whole AES blocks) are the client's to fix and are named. Everything found after decrypting (padding,
    /// not JSON, watermark) and the signature get one answer: the client holds the iv and the ciphertext, so telling
    /// "bad padding" from "not JSON" would be a CBC padding oracle (Vaudenay 2002) that decrypts any block with the
    /// user's session_key. The log keeps the real cause.
    public init(userDataFailure error: WeChatError) {
        switch error {
        case .invalidBase64(let field, _) where field != "session_key": self = .malformedUserData(error.description)
        case .invalidIVLength, .ciphertextNotBlockAligned: self = .malformedUserData(error.description)
        default: self = .userDataNotVerifiable
        }
    }
}
