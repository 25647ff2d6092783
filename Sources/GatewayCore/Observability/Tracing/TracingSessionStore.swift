import Foundation
import SessionStore

/// A session store whose operations become child spans of the `/auth/*` request they serve (`TraceScope`), named
/// `store <operation>` with `db.operation.name`. Used only when `[tracing]` export is on; outside a traced request
/// each call goes straight through.
struct TracingSessionStore: SessionStore {
    let base: any SessionStore

    private func traced<Value>(
        _ operation: String, _ body: () async throws(SessionStoreError) -> Value
    ) async throws(SessionStoreError) -> Value {
        try await TraceScope.child("store \(operation)", attributes: ["db.operation.name": operation], body)
    }

    func createSession(
        openid: String, unionid: String?, appid: String, sessionKey: String, refreshTokenHash: String,
        refreshExpiresAt: Date, now: Date
    ) async throws(SessionStoreError) -> SessionRecord {
        try await traced("createSession") { () async throws(SessionStoreError) in
            try await base.createSession(
                openid: openid, unionid: unionid, appid: appid, sessionKey: sessionKey,
                refreshTokenHash: refreshTokenHash, refreshExpiresAt: refreshExpiresAt, now: now)
        }
    }

    func rotate(
        presentedHash: String, newHash: String, newExpiresAt: Date, now: Date
    ) async throws(SessionStoreError) -> RotationOutcome {
        try await traced("rotate") { () async throws(SessionStoreError) in
            try await base.rotate(presentedHash: presentedHash, newHash: newHash, newExpiresAt: newExpiresAt, now: now)
        }
    }

    func revokeFamily(familyID: String, now: Date) async throws(SessionStoreError) -> Bool {
        try await traced("revokeFamily") { () async throws(SessionStoreError) in
            try await base.revokeFamily(familyID: familyID, now: now)
        }
    }

    func activeSessions(
        openid: String, appid: String?, now: Date
    ) async throws(SessionStoreError) -> [SessionSummary] {
        try await traced("activeSessions") { () async throws(SessionStoreError) in
            try await base.activeSessions(openid: openid, appid: appid, now: now)
        }
    }

    func revokeSessions(openid: String, appid: String?, now: Date) async throws(SessionStoreError) -> [String] {
        try await traced("revokeSessions") { () async throws(SessionStoreError) in
            try await base.revokeSessions(openid: openid, appid: appid, now: now)
        }
    }

    func revokeByRefreshTokenHash(_ hash: String, now: Date) async throws(SessionStoreError) -> Bool {
        try await traced("revokeByRefreshTokenHash") { () async throws(SessionStoreError) in
            try await base.revokeByRefreshTokenHash(hash, now: now)
        }
    }

    func family(forRefreshTokenHash hash: String) async throws(SessionStoreError) -> SessionRecord? {
        try await traced("family") { () async throws(SessionStoreError) in
            try await base.family(forRefreshTokenHash: hash)
        }
    }

    func replaceSessionKey(
        appid: String, openid: String, current: String, replacement: String, now: Date
    ) async throws(SessionStoreError) -> Bool {
        try await traced("replaceSessionKey") { () async throws(SessionStoreError) in
            try await base.replaceSessionKey(
                appid: appid, openid: openid, current: current, replacement: replacement, now: now)
        }
    }

    func sessionKey(appid: String, openid: String) async throws(SessionStoreError) -> String? {
        try await traced("sessionKey") { () async throws(SessionStoreError) in
            try await base.sessionKey(appid: appid, openid: openid)
        }
    }

    func recordRevokedAccessToken(jti: String, expiresAt: Date) async throws(SessionStoreError) {
        try await traced("recordRevokedAccessToken") { () async throws(SessionStoreError) in
            try await base.recordRevokedAccessToken(jti: jti, expiresAt: expiresAt)
        }
    }

    func revokedAccessTokens(now: Date) async throws(SessionStoreError) -> [(jti: String, expiresAt: Date)] {
        try await base.revokedAccessTokens(now: now)
    }

    func followRevocations(_ deliver: @escaping @Sendable ([RevokedAccessToken]) -> Void) async {
        await base.followRevocations(deliver)
    }

    var revocationFeedStatistics: RevocationFeedStatistics { base.revocationFeedStatistics }

    func purgeExpired(now: Date) async throws(SessionStoreError) -> Int {
        try await base.purgeExpired(now: now)
    }

    func ping() async throws(SessionStoreError) {
        try await traced("ping") { () async throws(SessionStoreError) in try await base.ping() }
    }

    var isAvailable: Bool { base.isAvailable }

    func close() async {
        await base.close()
    }
}
