import Foundation

/// Ending sessions and revoking access tokens on SQLite, and the `revocation_feed` other processes poll.
extension SQLiteSessionStore {
    @discardableResult
    public func revokeFamily(familyID: String, now: Date) async throws(SessionStoreError) -> Bool {
        try await perform { (connection) throws(SessionStoreError) -> Bool in
            try Self.revoke(familyID: familyID, now: now, connection)
        }
    }

    @discardableResult
    public func revokeByRefreshTokenHash(_ hash: String, now: Date) async throws(SessionStoreError) -> Bool {
        try await perform { (connection) throws(SessionStoreError) -> Bool in
            // Read first, outside the write lock: an unknown token or an ended session costs one read, so
            // revoking the same token again and again takes no lock from the processes that rotate tokens.
            guard let found = try Self.tokenAndFamily(hash: hash, connection) else { return false }
            if found.family.revokedAt == nil {
                try Self.revoke(familyID: found.family.familyID, now: now, connection)
            }
            return true
        }
    }

    public func recordRevokedAccessToken(jti: String, expiresAt: Date) async throws(SessionStoreError) {
        try await perform { (connection) throws(SessionStoreError) -> Void in
            try connection.immediateTransaction(operation: "revoke access token") { () throws(SessionStoreError) in
                let values: [SQLiteValue] = [.text(jti), .integer(StoreTime.milliseconds(expiresAt))]
                try connection.run(
                    """
                    INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (?, ?)
                    ON CONFLICT (jti) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)
                    """,
                    values,
                    operation: "revoke access token"
                )
                // The feed other processes poll: sequence numbers are handed out under the write lock, so they
                // commit in order and a reader's high-water mark never skips a row.
                try connection.run(
                    "INSERT INTO revocation_feed (jti, expires_at) VALUES (?, ?)", values,
                    operation: "revoke access token"
                )
            }
        }
    }

    public func followRevocations(_ deliver: @escaping @Sendable ([RevokedAccessToken]) -> Void) async {
        var cursor: Int64?
        while !Task.isCancelled {
            do {
                let start = cursor
                let (rows, last) = try await perform {
                    (connection) throws(SessionStoreError) -> ([RevokedAccessToken], Int64) in
                    try Self.feed(after: start, now: Date(), connection)
                }
                feedStatistics.withLockedValue { statistics in
                    statistics.reads += 1
                    statistics.rowsRead += rows.count
                }
                if !rows.isEmpty { deliver(rows) }
                cursor = last
            } catch {
                // A busy or closed file: the next poll tries again; a closed store ends with the task.
                if case .closed = error { return }
            }
            try? await Task.sleep(for: pollInterval)
        }
    }

    /// What polling the feed has cost so far (one read per poll).
    public var revocationFeedStatistics: RevocationFeedStatistics {
        feedStatistics.withLockedValue { $0 }
    }

    public func revokedAccessTokens(
        now: Date
    ) async throws(SessionStoreError) -> [(jti: String, expiresAt: Date)] {
        let rows = try await perform { (connection) throws(SessionStoreError) -> [RevokedAccessToken] in
            try connection.query(
                "SELECT jti, expires_at FROM revoked_access_tokens WHERE expires_at > ? ORDER BY expires_at",
                [.integer(StoreTime.milliseconds(now))],
                table: "revoked_access_tokens",
                operation: "list revoked access tokens"
            ) { (row) throws(SessionStoreError) -> RevokedAccessToken in
                try row.revokedAccessToken(from: 0)
            }
        }
        return rows.map { (jti: $0.jti, expiresAt: $0.expiresAt) }
    }

    // MARK: - Statements (called on the queue)

    @discardableResult
    static func revoke(
        familyID: String,
        now: Date,
        _ connection: SQLiteConnection
    ) throws(SessionStoreError) -> Bool {
        // Revoking the family is what refuses every token of it, including a successor issued a moment
        // ago to the winner of a race with a replayed token: `rotate` checks the family first. An ended session is
        // seen by a read, without SQLite's write lock (which even an UPDATE that matches nothing takes); the
        // UPDATE's own condition keeps the first revocation time should another process revoke in between.
        let state = try connection.query(
            "SELECT revoked_at IS NULL FROM refresh_families WHERE id = ?", [.text(familyID)],
            table: "refresh_families", operation: "revoke session"
        ) { (row) throws(SessionStoreError) -> Bool in try row.integer(0) == 1 }
        guard state.first == true else { return false }
        return try connection.run(
            "UPDATE refresh_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [.integer(StoreTime.milliseconds(now)), .text(familyID)],
            operation: "revoke session"
        ) > 0
    }

    /// The first call (`after == nil`) reads every unexpired revocation and the feed's end; later calls read
    /// only rows past the cursor, an index range on the primary key however long the feed is.
    private static func feed(
        after cursor: Int64?, now: Date, _ connection: SQLiteConnection
    ) throws(SessionStoreError) -> ([RevokedAccessToken], Int64) {
        guard let cursor else {
            let end =
                try connection.query(
                    "SELECT COALESCE(MAX(seq), 0) FROM revocation_feed", [], table: "revocation_feed",
                    operation: "follow revocations"
                ) { (row) throws(SessionStoreError) -> Int64 in try row.integer(0) }.first ?? 0
            let all = try connection.query(
                "SELECT jti, expires_at FROM revoked_access_tokens WHERE expires_at > ?",
                [.integer(StoreTime.milliseconds(now))], table: "revoked_access_tokens",
                operation: "follow revocations"
            ) { (row) throws(SessionStoreError) -> RevokedAccessToken in
                try row.revokedAccessToken(from: 0)
            }
            return (all, end)
        }
        let rows = try connection.query(
            "SELECT seq, jti, expires_at FROM revocation_feed WHERE seq > ? ORDER BY seq LIMIT 10000",
            [.integer(cursor)], table: "revocation_feed", operation: "follow revocations"
        ) { (row) throws(SessionStoreError) -> (Int64, RevokedAccessToken) in
            (try row.integer(0), try row.revokedAccessToken(from: 1))
        }
        return (rows.map(\.1), rows.last?.0 ?? cursor)
    }
}
