import Foundation
import PostgresNIO

/// Sessions and refresh rotation on PostgreSQL: the common refresh in one prepared statement, every other case
/// under the family's row lock.
extension PostgresSessionStore {
    public func createSession(
        openid: String,
        unionid: String?,
        appid: String,
        sessionKey: String,
        refreshTokenHash: String,
        refreshExpiresAt: Date,
        now: Date
    ) async throws(SessionStoreError) -> SessionRecord {
        let record = SessionRecord.newFamily(
            openid: openid, unionid: unionid, appid: appid, sessionKey: sessionKey, now: now,
            expiresAt: refreshExpiresAt)
        let created = StoreTime.milliseconds(now)
        let expires = StoreTime.milliseconds(refreshExpiresAt)
        // One statement, so one round trip and atomic without BEGIN/COMMIT; the foreign key from the token to
        // its family is checked at the end of the statement, after both inserts.
        try await perform("create session") { connection in
            try await connection.query(
                """
                WITH users AS (
                    INSERT INTO wechat_users (appid, openid, unionid, session_key, updated_at)
                    VALUES (\(appid), \(openid), \(unionid), \(sessionKey), \(created))
                    ON CONFLICT (appid, openid) DO UPDATE SET
                        session_key = EXCLUDED.session_key,
                        unionid = COALESCE(EXCLUDED.unionid, wechat_users.unionid),
                        updated_at = EXCLUDED.updated_at
                    WHERE EXCLUDED.updated_at >= wechat_users.updated_at
                ), family AS (
                    INSERT INTO refresh_families
                        (id, openid, unionid, appid, session_key, created_at, expires_at, revoked_at)
                    VALUES (\(record.familyID), \(openid), \(unionid), \(appid), \(sessionKey), \(created),
                        \(expires), NULL)
                )
                INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at, spent_at)
                VALUES (\(refreshTokenHash), \(record.familyID), \(created), \(expires), NULL)
                """,
                logger: Self.quiet(self.logger))
        }
        return record
    }

    public func rotate(
        presentedHash: String,
        newHash: String,
        newExpiresAt: Date,
        now: Date
    ) async throws(SessionStoreError) -> RotationOutcome {
        let logger = Self.quiet(self.logger)
        let at = StoreTime.milliseconds(now)
        let requested = StoreTime.milliseconds(newExpiresAt)
        // The common case in one prepared statement (FastRotation), one round trip and one commit: spend the token
        // only if it is the `.rotated` case of RefreshRotation.spend (unspent, unexpired, family live and
        // unexpired), and store the successor. The row condition `spent_at IS NULL` makes it atomic: of concurrent
        // attempts one updates the row and the others find nothing, fall through to the locked path below, see a
        // spent token and report `.reused`, exactly as if they had come second.
        let statement = FastRotation(
            presentedHash: presentedHash, newHash: newHash, now: at, requestedExpiry: requested)
        let fast = try await perform("rotate refresh token") { connection in
            var rows: [SessionRecord] = []
            for try await row in try await connection.execute(statement, logger: logger) {
                rows.append(SessionRecord(stored: row))
            }
            return rows.first
        }
        if let fast { return .rotated(fast) }
        // Every other case, decided by the pure rule under the family's lock.
        return try await perform("rotate refresh token", transaction: true) { connection in
            // The family first and locked: every writer of a family's tokens holds this lock, so the token
            // read next is current, and the lock order (family, then token) is the same everywhere.
            let family = try await connection.query(
                """
                SELECT \(unescaped: SessionRecord.storedColumns) FROM refresh_families f
                WHERE f.id = (SELECT family_id FROM refresh_tokens WHERE hash = \(presentedHash))
                FOR UPDATE
                """,
                logger: logger
            ).collect().first?.sessionRecord()
            guard let family else { return RotationOutcome.unknown }
            let token = try await connection.query(
                """
                SELECT \(unescaped: RefreshTokenRecord.storedColumns) FROM refresh_tokens t
                WHERE t.hash = \(presentedHash)
                """,
                logger: logger
            ).collect().first?.refreshTokenRecord()
            let outcome = RefreshRotation.spend(token: token, family: family, now: now)
            let at = StoreTime.milliseconds(now)
            switch outcome {
            case .rotated(let family):
                let expires = StoreTime.milliseconds(
                    RefreshRotation.successorExpiry(requested: newExpiresAt, family: family))
                let inserted = try await connection.query(
                    """
                    WITH spent AS (
                        UPDATE refresh_tokens SET spent_at = \(at)
                        WHERE hash = \(presentedHash) AND spent_at IS NULL RETURNING family_id
                    )
                    INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at, spent_at)
                    SELECT \(newHash), family_id, \(at), \(expires), NULL FROM spent RETURNING hash
                    """,
                    logger: logger
                ).collect().count
                // The lock makes this always 1; the condition is the guarantee should that ever change.
                guard inserted == 1 else {
                    try await Self.revoke(familyID: family.familyID, at: at, connection, logger: logger)
                    return .reused(familyID: family.familyID)
                }
                return outcome
            case .reused(let familyID):
                // Committed although the caller answers with an error: the theft response must stick.
                try await Self.revoke(familyID: familyID, at: at, connection, logger: logger)
                return outcome
            case .expired, .revoked, .unknown:
                return outcome
            }
        }
    }

    public func family(forRefreshTokenHash hash: String) async throws(SessionStoreError) -> SessionRecord? {
        let logger = Self.quiet(self.logger)
        return try await perform("find refresh token") { connection in
            try await connection.query(
                """
                SELECT \(unescaped: SessionRecord.storedColumns) FROM refresh_tokens t
                JOIN refresh_families f ON f.id = t.family_id WHERE t.hash = \(hash)
                """,
                logger: logger
            ).collect().first?.sessionRecord()
        }
    }

    public func replaceSessionKey(
        appid: String, openid: String, current: String, replacement: String, now: Date
    ) async throws(SessionStoreError) -> Bool {
        let logger = Self.quiet(self.logger)
        let at = StoreTime.milliseconds(now)
        return try await perform("replace session key") { connection in
            try await !connection.query(
                """
                UPDATE wechat_users SET session_key = \(replacement), updated_at = GREATEST(updated_at, \(at))
                WHERE appid = \(appid) AND openid = \(openid) AND session_key = \(current) RETURNING 1
                """,
                logger: logger
            ).collect().isEmpty
        }
    }

    public func sessionKey(appid: String, openid: String) async throws(SessionStoreError) -> String? {
        let logger = Self.quiet(self.logger)
        return try await perform("read session key") { connection in
            try await connection.query(
                "SELECT session_key FROM wechat_users WHERE appid = \(appid) AND openid = \(openid)",
                logger: logger
            ).collect().first?.decode(String.self)
        }
    }
}
