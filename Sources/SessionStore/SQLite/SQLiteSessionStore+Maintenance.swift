import Foundation

/// Deleting what has expired from the SQLite store, in one transaction.
extension SQLiteSessionStore {
    @discardableResult
    public func purgeExpired(now: Date) async throws(SessionStoreError) -> Int {
        try await perform { (connection) throws(SessionStoreError) -> Int in
            let cutoff = SQLiteValue.integer(StoreTime.milliseconds(now))
            return try connection.immediateTransaction(operation: "purge expired") { () throws(SessionStoreError) in
                // Tokens first and explicitly, so the count includes those the family cascade would remove.
                // An expired token of a live family goes too: presenting it again is `.unknown` rather than
                // `.expired`, and both are refused.
                let tokens = try connection.run(
                    """
                    DELETE FROM refresh_tokens WHERE expires_at <= ?
                        OR family_id IN (SELECT id FROM refresh_families WHERE expires_at <= ?)
                    """,
                    [cutoff, cutoff],
                    operation: "purge expired"
                )
                let families = try connection.run(
                    "DELETE FROM refresh_families WHERE expires_at <= ?", [cutoff], operation: "purge expired"
                )
                let revocations = try connection.run(
                    "DELETE FROM revoked_access_tokens WHERE expires_at <= ?", [cutoff], operation: "purge expired"
                )
                // The feed is a log of the same revocations, not counted twice.
                try connection.run(
                    "DELETE FROM revocation_feed WHERE expires_at <= ?", [cutoff], operation: "purge expired"
                )
                return tokens + families + revocations
            }
        }
    }
}
