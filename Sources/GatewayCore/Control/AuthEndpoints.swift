import Foundation
import JSON
import Logging
import NIOCore
import NIOHTTP1
import SessionStore
import Tokens
import WeChat

/// The control plane (docs/architecture.md, "The control plane"): login with a `wx.login()` code,
/// refresh-token rotation, revocation, logout, decryption of user data and the phone number, and the JWKS.
/// Errors use the OAuth 2.0 shape of RFC 6749 section 5.2; every answer carries `Cache-Control: no-store`.
///
/// Secrets stay here: the session_key is stored and used for decryption, never returned or logged;
/// refresh tokens are stored only as hashes.
public final class AuthEndpoints: ControlEndpoints {
    let config: GatewayConfiguration
    let wechat: WeChatClient
    let store: any SessionStore
    let issuer: TokenIssuer
    let verifier: any TokenVerifier
    let revocations: RevocationList
    let keyRing: KeyRing
    let rateLimiter: RateLimiter
    /// `/auth/phone`, per user: each call spends the app's WeChat quota.
    let phoneRateLimiter: RateLimiter
    let logger: Logger
    let refreshTokens = RefreshTokenGenerator()

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
        self.revocations = revocations
        self.rateLimiter = rateLimiter
        self.phoneRateLimiter = phoneRateLimiter
        self.logger = logger
    }

    public func handles(path: Substring) -> Bool {
        // By byte, as routes are matched: `Substring.hasPrefix` compares Characters, on every request.
        path.utf8.starts(with: "/auth/".utf8) || path.utf8.elementsEqual("/.well-known/jwks.json".utf8)
    }

    public func respond(to request: ControlRequest) async -> ControlResponse {
        switch (request.method, request.path) {
        case (.GET, "/.well-known/jwks.json"), (.HEAD, "/.well-known/jwks.json"):
            return ControlResponse(
                status: .ok,
                headers: [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "max-age=300")],
                body: keyRing.jwks())
        case (.POST, "/auth/login"): return await limited(request) { await self.login(request) }
        case (.POST, "/auth/token"): return await limited(request) { await self.refresh(request) }
        case (.POST, "/auth/revoke"): return await limited(request) { await self.revoke(request) }
        case (.POST, "/auth/logout"): return await limited(request) { await self.logout(request) }
        case (.POST, "/auth/userinfo"): return await userInfo(request)
        case (.POST, "/auth/phone"): return await phone(request)
        case (_, "/auth/login"), (_, "/auth/token"), (_, "/auth/revoke"), (_, "/auth/logout"), (_, "/auth/userinfo"),
            (_, "/auth/phone"):
            var answer = Self.oauthError(.methodNotAllowed, "invalid_request", "use POST")
            answer.headers.append(("Allow", "POST"))
            return answer
        default:
            return Self.oauthError(.notFound, "not_found", "no such endpoint")
        }
    }

    // MARK: Endpoints

    private func login(_ request: ControlRequest) async -> ControlResponse {
        let form: FormBody
        switch Self.parameters(of: request) {
        case .success(let parsed): form = parsed
        case .failure(let refusal): return refusal.response
        }
        guard let code = form["code"], !code.isEmpty else {
            return Self.oauthError(.badRequest, "invalid_request", "code is required")
        }
        guard code.utf8.count <= 512 else {
            return Self.oauthError(.badRequest, "invalid_request", "code is too long")
        }
        let app: WeChatConfig.App
        if let appid = form["appid"], !appid.isEmpty {
            guard let found = config.wechat.apps.first(where: { $0.appid == appid }) else {
                return Self.oauthError(.badRequest, "invalid_request", "unknown appid")
            }
            app = found
        } else if config.wechat.apps.count == 1 {
            app = config.wechat.apps[0]
        } else {
            return Self.oauthError(.badRequest, "invalid_request", "appid is required: several apps are configured")
        }

        // A code spent on a session the store cannot keep is lost to the user: when the store was last seen
        // down, ask it first and refuse before WeChat is called.
        if !store.isAvailable {
            do {
                try await store.ping()
            } catch {
                return storeFailure(error, request)
            }
        }
        // A login code is used once: it is never retried, whatever the failure (docs/wechat.md).
        let session: Code2SessionResult
        do {
            session = try await wechat.code2Session(app: WeChatApp(appID: app.appid, secret: app.secret), code: code)
        } catch {
            logWeChatRefusal(error, "login refused by WeChat", request)
            return Self.loginError(error)
        }
        let now = Date()
        let refreshToken = refreshTokens.makeToken()
        let refreshExpiresAt = now.addingTimeInterval(config.tokens.refreshTTL.seconds)
        let record: SessionRecord
        do {
            record = try await store.createSession(
                openid: session.openID, unionid: session.unionID, appid: app.appid, sessionKey: session.sessionKey,
                refreshTokenHash: RefreshTokenHash.of(refreshToken), refreshExpiresAt: refreshExpiresAt, now: now)
        } catch {
            return storeFailure(error, request)
        }
        return tokenResponse(for: record, refreshToken: refreshToken, refreshExpiresAt: refreshExpiresAt, now: now)
    }

    private func refresh(_ request: ControlRequest) async -> ControlResponse {
        let form: FormBody
        switch Self.parameters(of: request) {
        case .success(let parsed): form = parsed
        case .failure(let refusal): return refusal.response
        }
        guard let grant = form["grant_type"] else {
            return Self.oauthError(.badRequest, "invalid_request", "grant_type is required")
        }
        guard grant == "refresh_token" else {
            return Self.oauthError(.badRequest, "unsupported_grant_type", "only refresh_token is supported")
        }
        guard let presented = form["refresh_token"], !presented.isEmpty, presented.utf8.count <= 256 else {
            return Self.oauthError(.badRequest, "invalid_request", "refresh_token is required")
        }
        let now = Date()
        let next = refreshTokens.makeToken()
        let outcome: RotationOutcome
        do {
            outcome = try await store.rotate(
                presentedHash: RefreshTokenHash.of(presented), newHash: RefreshTokenHash.of(next),
                newExpiresAt: now.addingTimeInterval(config.tokens.refreshTTL.seconds), now: now)
        } catch {
            return storeFailure(error, request)
        }
        switch outcome {
        case .rotated(let family):
            let expiresAt = min(family.expiresAt, now.addingTimeInterval(config.tokens.refreshTTL.seconds))
            return tokenResponse(for: family, refreshToken: next, refreshExpiresAt: expiresAt, now: now)
        case .reused(let familyID):
            // RFC 9700 section 4.14.2: a spent token presented again means it was stolen; the family is gone.
            logger.warning(
                "refresh token reuse: session revoked",
                metadata: ["request_id": "\(request.requestID)", "family": "\(familyID)"])
            // The family is revoked in the store already; the access tokens' entry is best effort here, as
            // the answer is a refusal either way.
            do {
                try await revokeSessionAccessTokens(familyID)
            } catch {
                logger.error("could not record a revoked session", metadata: ["error": "\(error)"])
            }
            return Self.oauthError(.badRequest, "invalid_grant", "the refresh token was already used; log in again")
        case .expired:
            return Self.oauthError(.badRequest, "invalid_grant", "the refresh token has expired")
        case .revoked:
            return Self.oauthError(.badRequest, "invalid_grant", "the session has ended")
        case .unknown:
            return Self.oauthError(.badRequest, "invalid_grant", "the refresh token is not valid")
        }
    }

    private func userInfo(_ request: ControlRequest) async -> ControlResponse {
        let claims: VerifiedClaims
        switch authenticate(request) {
        case .success(let verified): claims = verified
        case .failure(let refusal): return refusal.response
        }
        let form: FormBody
        switch Self.parameters(of: request) {
        case .success(let parsed): form = parsed
        case .failure(let refusal): return refusal.response
        }
        guard let encryptedData = form["encryptedData"], let iv = form["iv"] else {
            return Self.oauthError(.badRequest, "invalid_request", "encryptedData and iv are required")
        }
        guard let appid = claims.appid else {
            return Self.oauthError(.badRequest, "invalid_request", "the token names no appid")
        }
        let sessionKey: String?
        do {
            sessionKey = try await store.sessionKey(appid: appid, openid: claims.subject)
        } catch {
            return storeFailure(error, request)
        }
        guard let sessionKey else {
            return Self.oauthError(.badRequest, "invalid_grant", "no WeChat session for this user; log in again")
        }
        do {
            let data = try EncryptedDataDecryptor(appID: appid).decrypt(
                encryptedData: encryptedData, iv: iv, sessionKey: sessionKey, rawData: form["rawData"],
                signature: form["signature"])
            var answer = ControlResponse.json(.ok, data.text)
            answer.openid = claims.subject
            return answer
        } catch {
            // WeChatError descriptions name the cause (stale session_key, '+' turned into a space...), never data.
            logger.notice(
                "user data refused",
                metadata: ["request_id": "\(request.requestID)", "reason": "\(error.description)"])
            return Self.userDataError(error)
        }
    }

    private func phone(_ request: ControlRequest) async -> ControlResponse {
        let claims: VerifiedClaims
        switch authenticate(request) {
        case .success(let verified): claims = verified
        case .failure(let refusal): return refusal.response
        }
        let form: FormBody
        switch Self.parameters(of: request) {
        case .success(let parsed): form = parsed
        case .failure(let refusal): return refusal.response
        }
        guard let code = form["code"], !code.isEmpty, code.utf8.count <= 512 else {
            return Self.oauthError(.badRequest, "invalid_request", "code is required")
        }
        // A phone code belongs to the mini-program that issued it; resolving it with another app's
        // credentials would be refused by WeChat at best and answer for the wrong app at worst.
        guard let app = config.wechat.apps.first(where: { $0.appid == claims.appid }) else {
            return Self.oauthError(.badRequest, "invalid_request", "the token's appid is not configured here")
        }
        // Per user, not per address: one user behind many addresses must not spend the app's daily quota of
        // getuserphonenumber calls, and many users behind one NAT must not share one user's allowance.
        if let wait = phoneRateLimiter.check("\(app.appid) \(claims.subject)") {
            return Self.slowDown(retryAfter: wait)
        }
        do {
            let phone = try await wechat.phoneNumber(app: WeChatApp(appID: app.appid, secret: app.secret), code: code)
            let body =
                "{\"phoneNumber\":\"\(JSONString.escape(phone.phoneNumber))\","
                + "\"purePhoneNumber\":\"\(JSONString.escape(phone.purePhoneNumber))\","
                + "\"countryCode\":\"\(JSONString.escape(phone.countryCode))\"}"
            var answer = ControlResponse.json(.ok, body)
            answer.openid = claims.subject
            return answer
        } catch {
            logWeChatRefusal(error, "phone number refused by WeChat", request)
            return Self.loginError(error, renewal: "ask for the phone number")
        }
    }

    // MARK: Helpers

    /// A misconfigured app (wrong appid or secret) is the operator's problem and logged as an error;
    /// the rest are the user's or WeChat's and only noted.
    private func logWeChatRefusal(_ error: WeChatError, _ message: Logger.Message, _ request: ControlRequest) {
        let metadata: Logger.Metadata = ["request_id": "\(request.requestID)", "reason": "\(error)"]
        switch error {
        case .invalidAppID, .invalidSecret: logger.error(message, metadata: metadata)
        default: logger.notice(message, metadata: metadata)
        }
    }

    /// A request refused before its endpoint ran, with the answer to send.
    struct Refusal: Error {
        let response: ControlResponse
    }

    private func limited(_ request: ControlRequest, _ body: () async -> ControlResponse) async -> ControlResponse {
        let client = ClientAddress.resolve(
            peer: request.peerAddress, forwardedFor: request.headers[canonicalForm: "x-forwarded-for"].map(String.init),
            trustedProxies: config.server.trustedProxies)
        if let wait = rateLimiter.check(client) { return Self.slowDown(retryAfter: wait) }
        return await body()
    }

    private static func slowDown(retryAfter seconds: Int) -> ControlResponse {
        oauthError(
            .tooManyRequests, "slow_down", "too many requests; retry later",
            extraHeaders: [("Retry-After", String(seconds))])
    }

    /// The bearer token of a control request, verified like on the proxy path.
    func authenticate(_ request: ControlRequest) -> Result<VerifiedClaims, Refusal> {
        // The same decision and the same RFC 6750 answer as on the proxy path.
        Authenticator(verifier: verifier).claims(request.headers, now: Date()).mapError { rejection in
            let error = GatewayError.authentication(rejection)
            return Refusal(
                response: ControlResponse.json(
                    error.status, error.jsonBody(requestID: request.requestID),
                    extraHeaders: error.headers(realm: config.tokens.issuer)))
        }
    }

    private func tokenResponse(
        for session: SessionRecord, refreshToken: String, refreshExpiresAt: Date, now: Date
    )
        -> ControlResponse
    {
        let access: IssuedToken
        do {
            access = try issuer.issue(
                subject: session.openid, appid: session.appid, unionid: session.unionid, sessionID: session.familyID,
                ttl: config.tokens.accessTTL.seconds, now: now)
        } catch {
            logger.error("could not sign an access token", metadata: ["error": "\(error)"])
            return Self.oauthError(.internalServerError, "server_error", "could not issue a token")
        }
        var body = "{\"access_token\":\"\(access.token)\",\"token_type\":\"Bearer\""
        body += ",\"expires_in\":\(Int(config.tokens.accessTTL.seconds))"
        body += ",\"refresh_token\":\"\(refreshToken)\""
        body += ",\"refresh_expires_in\":\(max(0, Int(refreshExpiresAt.timeIntervalSince(now))))"
        body += ",\"openid\":\"\(JSONString.escape(session.openid))\""
        if let unionid = session.unionid { body += ",\"unionid\":\"\(JSONString.escape(unionid))\"" }
        body += "}"
        var answer = ControlResponse.json(.ok, body, extraHeaders: [("Pragma", "no-cache")])
        answer.openid = session.openid
        return answer
    }

    func storeFailure(_ error: SessionStoreError, _ request: ControlRequest) -> ControlResponse {
        logger.error("session store failed", metadata: ["request_id": "\(request.requestID)", "error": "\(error)"])
        // Nothing was changed that the client must know about (or the change was refused whole), so the
        // same request is safe to send again once the store is back.
        return Self.oauthError(
            .serviceUnavailable, "temporarily_unavailable", "the session store is unavailable",
            extraHeaders: [("Retry-After", "2")])
    }

    /// The login errors of README.md, "HTTP endpoints of the gateway". Phone-number codes fail the same ways;
    /// `renewal` tells the client how to get a fresh code (codes are single use, so none is ever retried as it is).
    static func loginError(_ error: WeChatError, renewal: String = "call wx.login") -> ControlResponse {
        switch error {
        case .invalidCode, .codeUsed:
            return oauthError(
                .badRequest, "invalid_grant",
                "the code is invalid, expired or already used; \(renewal) again")
        case .rateLimited:
            return oauthError(
                .tooManyRequests, "slow_down", "WeChat rate limit reached; retry later",
                extraHeaders: [("Retry-After", "60")])
        case .riskyUser:
            return oauthError(.forbidden, "access_denied", "WeChat refused this user")
        case .systemBusy, .unavailable:
            return oauthError(
                .serviceUnavailable, "temporarily_unavailable",
                "WeChat is unavailable; \(renewal) and retry", extraHeaders: [("Retry-After", "5")])
        case .invalidAppID, .invalidSecret:
            return oauthError(
                .serviceUnavailable, "temporarily_unavailable",
                "the gateway's WeChat app is misconfigured")
        case .malformedAnswer:
            // WeChat did answer, with something the gateway will not pass on (an id that could not be a header).
            return oauthError(.badGateway, "temporarily_unavailable", "WeChat answered unexpectedly")
        default:
            return oauthError(.badGateway, "temporarily_unavailable", "WeChat answered unexpectedly")
        }
    }

    /// What the client hears when its encrypted data is refused. Faults in the shape of the input (base64, the iv's
    /// length, whole AES blocks) are the client's to fix and are named. Everything found after decrypting (padding,
    /// not JSON, watermark) and the signature get one answer: the client holds the iv and the ciphertext, so telling
    /// "bad padding" from "not JSON" would be a CBC padding oracle (Vaudenay 2002) that decrypts any block with the
    /// user's session_key. The log keeps the real cause.
    static func userDataError(_ error: WeChatError) -> ControlResponse {
        switch error {
        case .invalidBase64(let field, _) where field != "session_key":
            return oauthError(.badRequest, "invalid_request", error.description)
        case .invalidIVLength, .ciphertextNotBlockAligned:
            return oauthError(.badRequest, "invalid_request", error.description)
        default:
            return oauthError(
                .badRequest, "invalid_request",
                "encryptedData could not be decrypted and checked with this user's session: the session_key may be "
                    + "stale (call wx.login, log in again and retry) or the data was altered")
        }
    }

    /// The body's parameters, or the `invalid_request` answer that says what is wrong with it.
    static func parameters(of request: ControlRequest) -> Result<FormBody, Refusal> {
        FormBody.parse(request.body, headers: request.headers).mapError { failure in
            Refusal(response: oauthError(.badRequest, "invalid_request", failure.description))
        }
    }

    static func oauthError(
        _ status: HTTPResponseStatus, _ code: String, _ description: String, extraHeaders: [(String, String)] = []
    ) -> ControlResponse {
        ControlResponse.json(
            status, "{\"error\":\"\(code)\",\"error_description\":\"\(JSONString.escape(description))\"}",
            extraHeaders: [(GatewayError.markField, code)] + extraHeaders)
    }
}
