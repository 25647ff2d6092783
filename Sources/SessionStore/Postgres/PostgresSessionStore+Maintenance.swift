import Foundation
import PostgresNIO

/// Deleting what has expired from the PostgreSQL store, one instance of the fleet at a time.
extension PostgresSessionStore {
    /// How long a revocation row is kept after its expiry: an instance back from an outage still reads it, to
    /// close the tunnels of a session ended while it was away (cut off for up to `access_ttl + leeway` + this).
    static let revocationRetention: TimeInterval = 3600

    @discardableResult
    public func purgeExpired(now: Date) async throws(SessionStoreError) -> Int {
        let logger = Self.quiet(self.logger)
        let cutoff = StoreTime.milliseconds(now)
        let retention = Int64(Self.revocationRetention * 1000)
        return try await perform("purge expired", transaction: true) { connection in
            // One janitor at a time across the fleet; the others skip this round rather than queue behind it.
            let locked =
                try await connection.query(
                    "SELECT pg_try_advisory_xact_lock(\(PostgresMigrations.LockKey.purge))", logger: logger
                ).collect().first?.decode(Bool.self) ?? false
            guard locked else { return 0 }
            var removed = 0
            for statement: PostgresQuery in [
                """
                WITH gone AS (
                    DELETE FROM refresh_tokens WHERE expires_at <= \(cutoff)
                        OR family_id IN (SELECT id FROM refresh_families WHERE expires_at <= \(cutoff))
                    RETURNING 1
                ) SELECT count(*) FROM gone
                """,
                """
                WITH gone AS (DELETE FROM refresh_families WHERE expires_at <= \(cutoff) RETURNING 1)
                SELECT count(*) FROM gone
                """,
                """
                WITH gone AS (
                    DELETE FROM revoked_access_tokens WHERE expires_at <= \(cutoff - retention) RETURNING 1
                ) SELECT count(*) FROM gone
                """,
            ] {
                removed += Int(
                    try await connection.query(statement, logger: logger).collect().first?.decode(Int64.self) ?? 0)
            }
            return removed
        }
    }
}
