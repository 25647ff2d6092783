import Foundation

/// A user's sessions on SQLite, for operators (`GET /sessions`, `POST /sessions/revoke` on the admin listener).
extension SQLiteSessionStore {
    public func activeSessions(
        openid: String, appid: String?, now: Date
    ) async throws(SessionStoreError) -> [SessionSummary] {
        try await perform { (connection) throws(SessionStoreError) -> [SessionSummary] in
            try Self.liveFamilies(openid: openid, appid: appid, now: now, connection)
        }
    }

    @discardableResult
    public func revokeSessions(openid: String, appid: String?, now: Date) async throws(SessionStoreError) -> [String] {
        try await perform { (connection) throws(SessionStoreError) -> [String] in
            // Read and write under the write lock, so the ids returned are exactly the families this call ended.
            try connection.immediateTransaction(operation: "revoke user sessions") {
                () throws(SessionStoreError) -> [String] in
                let ids = try Self.liveFamilies(openid: openid, appid: appid, now: now, connection).map(\.familyID)
                for id in ids {
                    try connection.run(
                        "UPDATE refresh_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                        [.integer(StoreTime.milliseconds(now)), .text(id)], operation: "revoke user sessions")
                }
                return ids
            }
        }
    }

    private static func liveFamilies(
        openid: String, appid: String?, now: Date, _ connection: SQLiteConnection
    ) throws(SessionStoreError) -> [SessionSummary] {
        let appFilter: [SQLiteValue] = appid.map { [.text($0), .text($0)] } ?? [.null, .null]
        return try connection.query(
            """
            SELECT f.id, f.appid, f.created_at, f.expires_at,
                (SELECT MAX(t.issued_at) FROM refresh_tokens t WHERE t.family_id = f.id)
            FROM refresh_families f
            WHERE f.openid = ? AND (? IS NULL OR f.appid = ?) AND f.revoked_at IS NULL AND f.expires_at > ?
            ORDER BY f.created_at, f.id
            """,
            [.text(openid)] + appFilter + [.integer(StoreTime.milliseconds(now))],
            table: "refresh_families", operation: "list user sessions"
        ) { (row) throws(SessionStoreError) -> SessionSummary in
            let created = try row.integer(2)
            return SessionSummary(
                familyID: try row.text(0), appid: try row.text(1), createdAt: StoreTime.date(created),
                lastRefreshedAt: StoreTime.date(try row.optionalInteger(4) ?? created),
                expiresAt: StoreTime.date(try row.integer(3)))
        }
    }
}
