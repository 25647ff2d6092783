import Foundation
import SessionStore
import Tokens

/// Ends sessions and access tokens, on this instance at once (`RevocationList`) and on every instance through the
/// store, which is also what keeps them refused across restarts. The one revoke sequence behind `/auth/revoke`,
/// `/auth/logout` and a reused refresh token (docs/architecture.md, "The control plane").
///
/// A store failure is thrown: the local refusal stands, but the caller must hear that the fleet did not get it.
struct SessionRevoker: Sendable {
    let store: any SessionStore
    let revocations: RevocationList
    /// `[tokens] access_ttl` and `leeway`: how long an access token of a session can still be presented.
    let accessTTL: TimeInterval
    let leeway: TimeInterval

    /// Ends the session a verified access token belongs to; a token without one (`sid`) is refused by itself.
    func end(_ claims: VerifiedClaims) async throws(SessionStoreError) {
        // The verifier accepts a token until exp + leeway; a revocation that ended at exp would let a logged-out
        // token work again for the length of the leeway.
        let presentedUntil = claims.expiresAt.addingTimeInterval(leeway)
        guard let sessionID = claims.sessionID else {
            guard let jti = claims.jti else { return }
            return try await refuse(jti, until: presentedUntil)
        }
        // The session's entry refuses every access token of it, the presented one included: one row, one notice.
        try await endSession(sessionID, refusingAccessTokensUntilAtLeast: presentedUntil)
    }

    /// The access tokens' entry is written before the family: should the second write fail, the family is still
    /// live, so the client's retry (it was answered 503) writes both again rather than finding the session ended
    /// and skipping the entry the fleet never got.
    /// Returns whether the session was live (this call ended it).
    @discardableResult
    func endSession(
        _ familyID: String, refusingAccessTokensUntilAtLeast floor: Date? = nil
    ) async throws(SessionStoreError) -> Bool {
        try await refuseTokens(ofSession: familyID, atLeastUntil: floor)
        return try await store.revokeFamily(familyID: familyID, now: Date())
    }

    /// Ends every live session of a user (of one app when `appid` is set), for an operator (`POST /sessions/revoke`).
    /// As `endSession`, each session's access tokens are refused before the families end; a session that began
    /// between the read and the write is ended by the store all the same, and its tokens refused after. Returns how
    /// many sessions this call ended.
    func endSessions(ofUser openid: String, appid: String?) async throws(SessionStoreError) -> Int {
        let live = try await store.activeSessions(openid: openid, appid: appid, now: Date())
        for session in live { try await refuseTokens(ofSession: session.familyID) }
        let ended = try await store.revokeSessions(openid: openid, appid: appid, now: Date())
        for familyID in Set(ended).subtracting(live.map(\.familyID)) { try await refuseTokens(ofSession: familyID) }
        return ended.count
    }

    /// Refuses every access token issued in a session, not only the one presented. Alone, for a session the store
    /// has ended already (a reused refresh token revokes its family in the same transaction).
    func refuseTokens(ofSession familyID: String, atLeastUntil floor: Date? = nil) async throws(SessionStoreError) {
        let until = Self.sessionRefusedUntil(now: Date(), accessTTL: accessTTL, leeway: leeway, floor: floor)
        try await refuse(AccessTokenVerifier.sessionRevocationKey(familyID), until: until)
    }

    /// Each access token lives at most `access_ttl` plus leeway, so a session's entry can go after that, or after
    /// `floor` when that is later (a token issued before a reload shortened `access_ttl`).
    static func sessionRefusedUntil(now: Date, accessTTL: TimeInterval, leeway: TimeInterval, floor: Date?) -> Date {
        let untilEveryTokenExpired = now.addingTimeInterval(accessTTL + leeway)
        guard let floor, floor > untilEveryTokenExpired else { return untilEveryTokenExpired }
        return floor
    }

    /// Here at once, then in the store for the fleet: a token's `jti` or a session's key.
    private func refuse(_ key: String, until refusedUntil: Date) async throws(SessionStoreError) {
        revocations.revoke(jti: key, until: refusedUntil)
        try await store.recordRevokedAccessToken(jti: key, expiresAt: refusedUntil)
    }
}
