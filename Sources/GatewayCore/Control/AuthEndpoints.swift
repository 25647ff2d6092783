import Foundation
import Logging
import NIOHTTP1
import SessionStore
import Tokens
import WeChat

/// The control plane (docs/architecture.md, "The control plane"): login with a `wx.login()` code,
/// refresh-token rotation, revocation, logout, decryption of user data and the phone number, and the JWKS.
/// Errors use the OAuth 2.0 shape of RFC 6749 section 5.2 (`OAuthError`); every answer carries
/// `Cache-Control: no-store`.
///
/// `routes` is the whole surface: matching, the 405 with `Allow`, rate limiting and dispatch all read it. The
/// handlers live beside it by family: `+Login` (login, phone), `+Token` (token, JWKS), `+Revocation` (revoke,
/// logout), `+UserData` (userinfo), `+Web` (the web kinds' login and profile).
///
/// Secrets stay here: the session_key is stored and used for decryption, never returned or logged;
/// refresh tokens are stored only as hashes.
public final class AuthEndpoints: ControlEndpoints {
    /// Every endpoint, once.
    static let routes = ControlRouteTable<AuthEndpoints>([
        ControlRoute([.POST], "/auth/login", rateLimit: .authPerClientAddress, .form(AuthEndpoints.login)),
        ControlRoute([.POST], "/auth/token", rateLimit: .authPerClientAddress, .form(AuthEndpoints.refresh)),
        ControlRoute([.POST], "/auth/revoke", rateLimit: .authPerClientAddress, .form(AuthEndpoints.revoke)),
        ControlRoute([.POST], "/auth/logout", rateLimit: .authPerClientAddress, .bearer(AuthEndpoints.logout)),
        ControlRoute([.POST], "/auth/userinfo", .bearerForm(AuthEndpoints.userInfo)),
        ControlRoute([.POST], "/auth/phone", rateLimit: .phonePerUser, .bearerForm(AuthEndpoints.phone)),
        ControlRoute([.GET], "/auth/profile", rateLimit: .phonePerUser, .bearer(AuthEndpoints.profile)),
        ControlRoute([.GET, .HEAD], "/.well-known/jwks.json", .plain(AuthEndpoints.jwks)),
    ])

    let config: GatewayConfiguration
    let wechat: WeChatClient
    let store: any SessionStore
    let issuer: TokenIssuer
    let verifier: any TokenVerifier
    let revoker: SessionRevoker
    let keyRing: KeyRing
    /// `[rate_limit] auth_*`, per client address.
    let rateLimiter: RateLimiter
    /// `[rate_limit] phone_*`, per user.
    let phoneRateLimiter: RateLimiter
    let logger: Logger
    let refreshTokens = RefreshTokenGenerator()
    /// `routes`, held by the instance for `handles`, which runs for every proxied request: reading the static
    /// property is a `swift_once` call each time.
    private let routeTable = AuthEndpoints.routes

    public init(
        config: GatewayConfiguration, wechat: WeChatClient, store: any SessionStore, keyRing: KeyRing,
        verifier: any TokenVerifier, revocations: RevocationList, rateLimiter: RateLimiter,
        phoneRateLimiter: RateLimiter, logger: Logger
    ) {
        self.config = config
        self.wechat = wechat
        self.store = store
        self.keyRing = keyRing
        self.issuer = TokenIssuer(keyRing: keyRing, issuer: config.tokens.issuer, audience: config.tokens.audience)
        self.verifier = verifier
        self.revoker = SessionRevoker(
            store: store, revocations: revocations, accessTTL: config.tokens.accessTTL.seconds,
            leeway: config.tokens.leeway.seconds)
        self.rateLimiter = rateLimiter
        self.phoneRateLimiter = phoneRateLimiter
        self.logger = logger
    }

    public func handles(path: Substring) -> Bool {
        var path = path
        return path.withUTF8 { Self.handles(utf8: UnsafeRawBufferPointer($0), routes: routeTable) }
    }

    /// Whether the path whose UTF-8 is `path` is the control plane's. By byte, as routes are matched, and with no
    /// generic `starts(with:)` over the UTF-8 view: this runs for every proxied request. Every path under /auth/ is
    /// ours, so an unknown one gets the control plane's 404 rather than an upstream's.
    static func handles(utf8 path: UnsafeRawBufferPointer, routes: ControlRouteTable<AuthEndpoints>) -> Bool {
        let prefix: StaticString = "/auth/"
        if path.count >= prefix.utf8CodeUnitCount
            && memcmp(path.baseAddress!, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
        {
            return true
        }
        return routes.contains(utf8: path)
    }

    public func respond(to request: ControlRequest) async -> ControlResponse {
        do throws(OAuthError) {
            switch Self.routes.match(request.method, request.path) {
            case .route(let route): return try await dispatch(route, request)
            case .methodNotAllowed(let allowed): throw .methodNotAllowed(allowed: allowed)
            case .notFound: throw .noSuchEndpoint
            }
        } catch {
            if case .storeUnavailable(let cause) = error {
                logger.error(
                    "session store failed", metadata: ["request_id": "\(request.requestID)", "error": "\(cause)"])
            }
            return error.response(requestID: request.requestID, realm: config.tokens.issuer)
        }
    }

    /// The steps before a handler, in this order for every route: the per-address bucket (before the body is
    /// read, so a flood costs nothing), the bearer token, the per-user bucket, the body's parameters.
    private func dispatch(
        _ route: ControlRoute<AuthEndpoints>, _ request: ControlRequest
    ) async throws(OAuthError) -> ControlResponse {
        if route.rateLimit == .authPerClientAddress {
            let client = ClientAddress.resolve(
                peer: request.peerAddress,
                forwardedFor: request.headers[canonicalForm: "x-forwarded-for"].map(String.init),
                trustedProxies: config.server.trustedProxies)
            try spend(rateLimiter, client)
        }
        switch route.handler {
        case .plain(let handler):
            return await handler(self)(request)
        case .form(let handler):
            return try await handler(self)(request, try Self.parameters(of: request))
        case .bearer(let handler):
            return try await handler(self)(request, try caller(of: request, route))
        case .bearerForm(let handler):
            let claims = try caller(of: request, route)
            return try await handler(self)(request, claims, try Self.parameters(of: request))
        }
    }

    /// The bearer token's claims, verified like on the proxy path (the same decision and the same RFC 6750
    /// answer), and the user's bucket spent when the route has one.
    private func caller(
        of request: ControlRequest, _ route: ControlRoute<AuthEndpoints>
    ) throws(OAuthError) -> VerifiedClaims {
        let claims: VerifiedClaims
        switch Authenticator(verifier: verifier).claims(request.headers, now: Date()) {
        case .success(let verified): claims = verified
        case .failure(let rejection): throw .unauthenticated(rejection)
        }
        if route.rateLimit == .phonePerUser {
            try spend(phoneRateLimiter, "\(claims.appid ?? "") \(claims.subject)")
        }
        return claims
    }

    private func spend(_ limiter: RateLimiter, _ key: String) throws(OAuthError) {
        if let wait = limiter.check(key) { throw .tooManyRequests(retryAfter: wait) }
    }

    /// The body's parameters, or the `invalid_request` that says what is wrong with it.
    static func parameters(of request: ControlRequest) throws(OAuthError) -> FormBody {
        switch FormBody.parse(request.body, headers: request.headers) {
        case .success(let form): return form
        case .failure(let failure): throw .malformedBody(failure)
        }
    }

    /// A store call whose failure becomes the client's 503 (`OAuthError.storeUnavailable`).
    func fromStore<Value>(
        _ call: () async throws(SessionStoreError) -> Value
    ) async throws(OAuthError) -> Value {
        do {
            return try await call()
        } catch {
            throw .storeUnavailable(error)
        }
    }

    /// A misconfigured app (wrong appid or secret) is the operator's problem and logged as an error;
    /// the rest are the user's or WeChat's and only noted.
    func logWeChatRefusal(_ error: WeChatError, _ message: Logger.Message, _ request: ControlRequest) {
        let metadata: Logger.Metadata = ["request_id": "\(request.requestID)", "reason": "\(error)"]
        switch error {
        case .invalidAppID, .invalidSecret: logger.error(message, metadata: metadata)
        default: logger.notice(message, metadata: metadata)
        }
    }
}
