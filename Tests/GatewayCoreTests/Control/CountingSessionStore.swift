import Foundation
import SessionStore

/// A `SessionStore` that forwards to a real one and counts what the gateway asks of it: reads, writes, and
/// revocations recorded (each one a notice to every instance of the fleet).
final class CountingSessionStore: SessionStore, @unchecked Sendable {
    struct Counts: Equatable, CustomStringConvertible {
        var reads = 0
        var writes = 0
        var revocationsRecorded = 0
        var description: String { "\(reads) reads, \(writes) writes, \(revocationsRecorded) revocation notices" }
    }

    private let inner: any SessionStore
    private let lock = NSLock()
    private var counted = Counts()

    init(wrapping inner: any SessionStore) { self.inner = inner }

    var counts: Counts { lock.withLock { counted } }
    func reset() { lock.withLock { counted = Counts() } }
    private func count(_ change: (inout Counts) -> Void) { lock.withLock { change(&counted) } }

    func createSession(
        openid: String, unionid: String?, appid: String, sessionKey: String, refreshTokenHash: String,
        refreshExpiresAt: Date, now: Date
    ) async throws(SessionStoreError) -> SessionRecord {
        count { $0.writes += 1 }
        return try await inner.createSession(
            openid: openid, unionid: unionid, appid: appid, sessionKey: sessionKey, refreshTokenHash: refreshTokenHash,
            refreshExpiresAt: refreshExpiresAt, now: now)
    }

    func rotate(
        presentedHash: String, newHash: String, newExpiresAt: Date, now: Date
    ) async throws(SessionStoreError) -> RotationOutcome {
        count { $0.writes += 1 }
        return try await inner.rotate(
            presentedHash: presentedHash, newHash: newHash, newExpiresAt: newExpiresAt, now: now)
    }

    func revokeFamily(familyID: String, now: Date) async throws(SessionStoreError) -> Bool {
        count { $0.writes += 1 }
        return try await inner.revokeFamily(familyID: familyID, now: now)
    }

    func activeSessions(openid: String, appid: String?, now: Date) async throws(SessionStoreError) -> [SessionSummary] {
        count { $0.reads += 1 }
        return try await inner.activeSessions(openid: openid, appid: appid, now: now)
    }

    func revokeSessions(openid: String, appid: String?, now: Date) async throws(SessionStoreError) -> [String] {
        count { $0.writes += 1 }
        return try await inner.revokeSessions(openid: openid, appid: appid, now: now)
    }

    func revokeByRefreshTokenHash(_ hash: String, now: Date) async throws(SessionStoreError) -> Bool {
        count { $0.writes += 1 }
        return try await inner.revokeByRefreshTokenHash(hash, now: now)
    }

    func family(forRefreshTokenHash hash: String) async throws(SessionStoreError) -> SessionRecord? {
        count { $0.reads += 1 }
        return try await inner.family(forRefreshTokenHash: hash)
    }

    func sessionKey(appid: String, openid: String) async throws(SessionStoreError) -> String? {
        count { $0.reads += 1 }
        return try await inner.sessionKey(appid: appid, openid: openid)
    }

    func replaceSessionKey(
        appid: String, openid: String, current: String, replacement: String, now: Date
    ) async throws(SessionStoreError) -> Bool {
        count { $0.writes += 1 }
        return try await inner.replaceSessionKey(
            appid: appid, openid: openid, current: current, replacement: replacement, now: now)
    }

    func recordRevokedAccessToken(jti: String, expiresAt: Date) async throws(SessionStoreError) {
        count {
            $0.writes += 1
            $0.revocationsRecorded += 1
        }
        try await inner.recordRevokedAccessToken(jti: jti, expiresAt: expiresAt)
    }

    func revokedAccessTokens(now: Date) async throws(SessionStoreError) -> [(jti: String, expiresAt: Date)] {
        count { $0.reads += 1 }
        return try await inner.revokedAccessTokens(now: now)
    }

    func followRevocations(_ deliver: @escaping @Sendable ([RevokedAccessToken]) -> Void) async {
        await inner.followRevocations(deliver)
    }

    func purgeExpired(now: Date) async throws(SessionStoreError) -> Int {
        count { $0.writes += 1 }
        return try await inner.purgeExpired(now: now)
    }

    func ping() async throws(SessionStoreError) {
        count { $0.reads += 1 }
        try await inner.ping()
    }

    func close() async { await inner.close() }
}
