import Foundation
import SessionStore
import Tokens

/// `/auth/revoke` and `/auth/logout`: ending a session on this instance at once and on every instance through the
/// store, at the cost of a write (and a notice to the fleet) only when something ends. Revoking an ended session
/// again costs one read (a refresh token) or nothing (an access token, which the verifier already refuses).
extension AuthEndpoints {
    /// RFC 7009: 200 whether or not the token was known, so the endpoint reveals nothing; 503 when the store
    /// could not record the revocation (section 2.2.1 allows it), so the caller knows the session did not end.
    func revoke(_ request: ControlRequest) async -> ControlResponse {
        let form: FormBody
        switch Self.parameters(of: request) {
        case .success(let parsed): form = parsed
        case .failure(let refusal): return refusal.response
        }
        guard let token = form["token"], !token.isEmpty else {
            return Self.oauthError(.badRequest, "invalid_request", "token is required")
        }
        do {
            if token.contains(".") {
                // A JWT access token. One whose session already ended is refused by the verifier: no store work.
                if case .valid(let claims) = verifier.verify(token, now: Date()) {
                    try await end(claims)
                }
            } else if token.utf8.count <= 256 {
                // One read tells an unknown token or an ended session from a live one; only a live one is written.
                if let family = try await store.family(forRefreshTokenHash: RefreshTokenHash.of(token)),
                    family.revokedAt == nil
                {
                    try await endSession(family.familyID)
                }
            }
        } catch {
            return storeFailure(error, request)
        }
        return ControlResponse.json(.ok, "{}")
    }

    func logout(_ request: ControlRequest) async -> ControlResponse {
        let claims: VerifiedClaims
        switch authenticate(request) {
        case .success(let verified): claims = verified
        case .failure(let refusal): return refusal.response
        }
        do {
            try await end(claims)
        } catch {
            return storeFailure(error, request)
        }
        var answer = ControlResponse(status: .noContent, headers: [("Cache-Control", "no-store")])
        answer.openid = claims.subject
        return answer
    }

    /// The session a verified access token belongs to; a token without one (`sid`) is revoked by itself.
    private func end(_ claims: VerifiedClaims) async throws(SessionStoreError) {
        // The verifier accepts a token until exp + leeway; a revocation that ended at exp would let a logged-out
        // token work again for the length of the leeway.
        let presentedUntil = claims.expiresAt.addingTimeInterval(config.tokens.leeway.seconds)
        guard let sessionID = claims.sessionID else {
            return try await revokeAccessToken(claims.jti, until: presentedUntil)
        }
        // The session's entry refuses every access token of it, the presented one included: one row, one notice.
        try await endSession(sessionID, refusingAccessTokensUntilAtLeast: presentedUntil)
    }

    /// The access tokens' entry is written before the family: should the second write fail, the family is still
    /// live, so the client's retry (it was answered 503) writes both again rather than finding the session ended
    /// and skipping the entry the fleet never got.
    private func endSession(
        _ familyID: String, refusingAccessTokensUntilAtLeast floor: Date? = nil
    ) async throws(SessionStoreError) {
        try await revokeSessionAccessTokens(familyID, atLeastUntil: floor)
        try await store.revokeFamily(familyID: familyID, now: Date())
    }

    /// Refuses one token at once on this instance, then records it in the store, which is what makes every other
    /// instance refuse it and keeps it refused across restarts. A store failure is thrown: the local refusal
    /// stands, but the caller must hear that the fleet did not get it.
    private func revokeAccessToken(_ jti: String?, until refusedUntil: Date) async throws(SessionStoreError) {
        guard let jti else { return }
        revocations.revoke(jti: jti, until: refusedUntil)
        try await store.recordRevokedAccessToken(jti: jti, expiresAt: refusedUntil)
    }

    /// Ends every access token issued in a session, not only the one presented: each lives at most `access_ttl`
    /// (plus leeway), so the session's entry can go after that, or after `floor` when that is later (a token
    /// issued before a reload shortened `access_ttl`).
    func revokeSessionAccessTokens(_ familyID: String, atLeastUntil floor: Date? = nil) async throws(SessionStoreError)
    {
        let key = AccessTokenVerifier.sessionRevocationKey(familyID)
        var refusedUntil = Date().addingTimeInterval(config.tokens.accessTTL.seconds + config.tokens.leeway.seconds)
        if let floor, floor > refusedUntil { refusedUntil = floor }
        revocations.revoke(jti: key, until: refusedUntil)
        try await store.recordRevokedAccessToken(jti: key, expiresAt: refusedUntil)
    }
}
