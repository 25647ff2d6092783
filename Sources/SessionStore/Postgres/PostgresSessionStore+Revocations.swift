import Foundation
import Logging
import PostgresNIO

/// Ending sessions and revoking access tokens on PostgreSQL, and following the revocations every instance records.
extension PostgresSessionStore {
    @discardableResult
    public func revokeFamily(familyID: String, now: Date) async throws(SessionStoreError) -> Bool {
        let logger = Self.quiet(self.logger)
        return try await perform("revoke session") { connection in
            // An ended session costs one read: no UPDATE (and its table lock) for a revoke that changes nothing.
            let live = try await connection.query(
                "SELECT 1 FROM refresh_families WHERE id = \(familyID) AND revoked_at IS NULL", logger: logger
            ).collect()
            guard !live.isEmpty else { return false }
            let at = StoreTime.milliseconds(now)
            return try await Self.revoke(familyID: familyID, at: at, connection, logger: logger)
        }
    }

    @discardableResult
    public func revokeByRefreshTokenHash(_ hash: String, now: Date) async throws(SessionStoreError) -> Bool {
        let logger = Self.quiet(self.logger)
        let at = StoreTime.milliseconds(now)
        return try await perform("revoke refresh token") { connection in
            // Read first: an unknown token or an ended session costs one read and writes nothing.
            let rows = try await connection.query(
                """
                SELECT f.id, f.revoked_at IS NULL FROM refresh_tokens t
                JOIN refresh_families f ON f.id = t.family_id WHERE t.hash = \(hash)
                """,
                logger: logger
            ).collect()
            guard let (familyID, live) = try rows.first?.decode((String, Bool).self) else { return false }
            if live { try await Self.revoke(familyID: familyID, at: at, connection, logger: logger) }
            return true
        }
    }

    public func recordRevokedAccessToken(jti: String, expiresAt: Date) async throws(SessionStoreError) {
        let logger = Self.quiet(self.logger)
        let payload = RevocationNotice.payload(jti: jti, expiresAt: expiresAt)
        // `seq` is taken under a transaction-level advisory lock (in the subquery, before `nextval`), held
        // until the commit is visible, so rows become visible in `seq` order (`RevocationFeedPage`). The
        // notification is sent at commit; its payload is what the previous release reads (rolling upgrade).
        try await perform("revoke access token") { connection in
            try await connection.query(
                """
                WITH revoked AS (
                    INSERT INTO revoked_access_tokens (seq, jti, expires_at)
                    SELECT nextval(pg_get_serial_sequence('revoked_access_tokens', 'seq')),
                        \(jti), \(StoreTime.milliseconds(expiresAt))
                    FROM (SELECT pg_advisory_xact_lock(\(PostgresMigrations.LockKey.feed))) AS serialized
                    RETURNING seq
                )
                SELECT pg_notify(\(RevocationNotice.channel), \(payload)) FROM revoked
                """,
                logger: logger)
        }
    }

    public func revokedAccessTokens(now: Date) async throws(SessionStoreError) -> [(jti: String, expiresAt: Date)] {
        let logger = Self.quiet(self.logger)
        // In pages by `seq`, as the feed's first load: about 190 k rows at 100 logouts/s, which one statement
        // could not always send within `statement_timeout`. A jti revoked twice keeps its later expiry.
        var latest: [String: Date] = [:]
        var mark: Int64 = 0
        while true {
            let start = mark
            let page = try await perform("list revoked access tokens") { connection in
                try await RevocationFeedPage.after(start, unexpiredAt: now, connection, logger: logger)
            }
            for revoked in page.revocations {
                latest[revoked.jti] = max(revoked.expiresAt, latest[revoked.jti] ?? revoked.expiresAt)
            }
            guard page.isFull else { break }
            mark = page.mark
        }
        return latest.map { (jti: $0.key, expiresAt: $0.value) }.sorted { $0.expiresAt < $1.expiresAt }
    }

    public func followRevocations(_ deliver: @escaping @Sendable ([RevokedAccessToken]) -> Void) async {
        let listener = PostgresRevocationListener(
            configuration: settings, logger: logger,
            onConnection: { [weak self] up in self?.noteAvailability(up) }, statistics: feedStatistics)
        await listener.run(deliver)
    }

    /// What following the revocation feed has cost so far (reads and rows read).
    public var revocationFeedStatistics: RevocationFeedStatistics {
        feedStatistics.withLockedValue { $0 }
    }

    // MARK: - Statements

    @discardableResult
    static func revoke(
        familyID: String, at: Int64, _ connection: PostgresConnection, logger: Logger
    ) async throws -> Bool {
        try await connection.query(
            """
            UPDATE refresh_families SET revoked_at = \(at) WHERE id = \(familyID) AND revoked_at IS NULL
            RETURNING id
            """,
            logger: logger
        ).collect().count > 0
    }
}
