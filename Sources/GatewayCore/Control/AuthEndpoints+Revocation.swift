import Foundation
import JSON
import SessionStore
import Tokens

/// `/auth/revoke` and `/auth/logout`: ending a session on this instance at once and on every instance through the
/// store (`SessionRevoker`), at the cost of a write (and a notice to the fleet) only when something ends. Revoking
/// an ended session again costs one read (a refresh token) or nothing (an access token, which the verifier already
/// refuses).
extension AuthEndpoints {
    /// RFC 7009: 200 whether or not the token was known, so the endpoint reveals nothing; 503 when the store
    /// could not record the revocation (section 2.2.1 allows it), so the caller knows the session did not end.
    func revoke(_ request: ControlRequest, _ form: FormBody) async throws(OAuthError) -> ControlResponse {
        guard let token = form["token"], !token.isEmpty else { throw .missingParameter("token") }
        try await fromStore { () async throws(SessionStoreError) in
            if token.contains(".") {
                // A JWT access token. One whose session already ended is refused by the verifier: no store work.
                if case .valid(let claims) = verifier.verify(token, now: Date()) {
                    try await revoker.end(claims)
                }
            } else if token.utf8.count <= 256 {
                // One read tells an unknown token or an ended session from a live one; only a live one is written.
                if let family = try await store.family(forRefreshTokenHash: RefreshTokenHash.of(token)),
                    family.revokedAt == nil
                {
                    try await revoker.endSession(family.familyID)
                }
            }
        }
        // RFC 7009 section 2.2: the content of the answer is ignored by the client; an empty object is JSON.
        return ControlResponse.json(.ok, JSONObjectWriter().text)
    }

    func logout(_ request: ControlRequest, _ claims: VerifiedClaims) async throws(OAuthError) -> ControlResponse {
        try await fromStore { () async throws(SessionStoreError) in try await revoker.end(claims) }
        var answer = ControlResponse(status: .noContent, headers: [("Cache-Control", "no-store")])
        answer.openid = claims.subject
        return answer
    }
}
