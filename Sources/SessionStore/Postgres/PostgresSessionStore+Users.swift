import Foundation
import PostgresNIO

/// A user's sessions on PostgreSQL, for operators (`GET /sessions`, `POST /sessions/revoke` on the admin listener).
extension PostgresSessionStore {
    public func activeSessions(
        openid: String, appid: String?, now: Date
    ) async throws(SessionStoreError) -> [SessionSummary] {
        let logger = Self.quiet(self.logger)
        let at = StoreTime.milliseconds(now)
        return try await perform("list user sessions") { connection in
            var sessions: [SessionSummary] = []
            let rows = try await connection.query(
                """
                SELECT f.id, f.appid, f.created_at, f.expires_at,
                    (SELECT MAX(t.issued_at) FROM refresh_tokens t WHERE t.family_id = f.id)
                FROM refresh_families f
                WHERE f.openid = \(openid) AND (\(appid)::text IS NULL OR f.appid = \(appid))
                    AND f.revoked_at IS NULL AND f.expires_at > \(at)
                ORDER BY f.created_at, f.id
                """,
                logger: logger)
            for try await (id, app, created, expires, refreshed) in rows.decode(
                (String, String, Int64, Int64, Int64?).self)
            {
                sessions.append(
                    SessionSummary(
                        familyID: id, appid: app, createdAt: StoreTime.date(created),
                        lastRefreshedAt: StoreTime.date(refreshed ?? created), expiresAt: StoreTime.date(expires)))
            }
            return sessions
        }
    }

    @discardableResult
    public func revokeSessions(openid: String, appid: String?, now: Date) async throws(SessionStoreError) -> [String] {
        let logger = Self.quiet(self.logger)
        let at = StoreTime.milliseconds(now)
        // One UPDATE: its row condition keeps a family another instance ended first out of the ids returned.
        return try await perform("revoke user sessions") { connection in
            var ids: [String] = []
            let rows = try await connection.query(
                """
                UPDATE refresh_families SET revoked_at = \(at)
                WHERE openid = \(openid) AND (\(appid)::text IS NULL OR appid = \(appid))
                    AND revoked_at IS NULL AND expires_at > \(at)
                RETURNING id
                """,
                logger: logger)
            for try await id in rows.decode(String.self) { ids.append(id) }
            return ids.sorted()
        }
    }
}
