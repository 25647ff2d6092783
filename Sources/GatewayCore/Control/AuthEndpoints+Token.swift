import Foundation
import JSON
import SessionStore
import Tokens

/// `/auth/token` (refresh-token rotation), the token answer login shares, and `/.well-known/jwks.json`.
extension AuthEndpoints {
    func refresh(_ request: ControlRequest, _ form: FormBody) async throws(OAuthError) -> ControlResponse {
        guard let grant = form["grant_type"] else { throw .missingParameter("grant_type") }
        guard grant == "refresh_token" else { throw .unsupportedGrantType }
        guard let presented = form["refresh_token"], !presented.isEmpty else {
            throw .missingParameter("refresh_token")
        }
        // Longer than any token this gateway issues: not one of ours (RFC 6749 section 5.2), without a store read.
        guard presented.utf8.count <= 256 else { throw .refreshTokenNotValid }
        let now = Date()
        let next = refreshTokens.makeToken()
        let outcome = try await fromStore { () async throws(SessionStoreError) in
            try await store.rotate(
                presentedHash: RefreshTokenHash.of(presented), newHash: RefreshTokenHash.of(next),
                newExpiresAt: now.addingTimeInterval(config.tokens.refreshTTL.seconds), now: now)
        }
        switch outcome {
        case .rotated(let family):
            let expiresAt = min(family.expiresAt, now.addingTimeInterval(config.tokens.refreshTTL.seconds))
            return try tokenResponse(for: family, refreshToken: next, refreshExpiresAt: expiresAt, now: now)
        case .reused(let familyID):
            // RFC 9700 section 4.14.2: a spent token presented again means it was stolen; the family is gone.
            logger.warning(
                "refresh token reuse: session revoked",
                metadata: ["request_id": "\(request.requestID)", "family": "\(familyID)"])
            // The family is revoked in the store already; the access tokens' entry is best effort here, as
            // the answer is a refusal either way.
            do {
                try await revoker.refuseTokens(ofSession: familyID)
            } catch {
                logger.error("could not record a revoked session", metadata: ["error": "\(error)"])
            }
            throw .refreshTokenReused
        case .expired: throw .refreshTokenExpired
        case .revoked: throw .sessionEnded
        case .unknown: throw .refreshTokenNotValid
        }
    }

    /// RFC 6749 section 5.1: the access token, its lifetime, the refresh token, and `Pragma: no-cache` beside
    /// `Cache-Control: no-store`.
    func tokenResponse(
        for session: SessionRecord, refreshToken: String, refreshExpiresAt: Date, now: Date
    ) throws(OAuthError) -> ControlResponse {
        let access: IssuedToken
        do {
            access = try issuer.issue(
                subject: session.openid, appid: session.appid, unionid: session.unionid, sessionID: session.familyID,
                appKind: config.wechat.kind(ofApp: session.appid), ttl: config.tokens.accessTTL.seconds, now: now)
        } catch {
            logger.error("could not sign an access token", metadata: ["error": "\(error)"])
            throw .tokenNotIssued
        }
        var body = JSONObjectWriter()
        body.member("access_token", access.token)
        body.member("token_type", "Bearer")
        body.member("expires_in", Int(config.tokens.accessTTL.seconds))
        body.member("refresh_token", refreshToken)
        body.member("refresh_expires_in", max(0, Int(refreshExpiresAt.timeIntervalSince(now))))
        body.member("openid", session.openid)
        body.member("unionid", ifPresent: session.unionid)
        var answer = ControlResponse.json(.ok, body.text, extraHeaders: [("Pragma", "no-cache")])
        answer.openid = session.openid
        return answer
    }

    /// The public keys access tokens can be checked with (RFC 7517); cached for five minutes, as keys rotate
    /// with a reload.
    func jwks(_ request: ControlRequest) async -> ControlResponse {
        ControlResponse(
            status: .ok,
            headers: [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "max-age=300")],
            body: keyRing.jwks())
    }
}
