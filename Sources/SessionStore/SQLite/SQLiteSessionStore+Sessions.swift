import Foundation

/// Sessions and refresh rotation on SQLite: every decision that reads then writes runs in `BEGIN IMMEDIATE`.
extension SQLiteSessionStore {
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
        return try await perform { (connection) throws(SessionStoreError) -> SessionRecord in
            try connection.immediateTransaction(operation: "create session") { () throws(SessionStoreError) in
                try Self.storeNewestSessionKey(record, connection)
                try connection.run(
                    """
                    INSERT INTO refresh_families
                        (id, openid, unionid, appid, session_key, created_at, expires_at, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
                    """,
                    [
                        .text(record.familyID), .text(openid), unionid.map { .text($0) } ?? .null, .text(appid),
                        .text(sessionKey), .integer(StoreTime.milliseconds(now)),
                        .integer(StoreTime.milliseconds(refreshExpiresAt)),
                    ],
                    operation: "create session"
                )
                try Self.insertToken(
                    hash: refreshTokenHash, familyID: record.familyID, issuedAt: now, expiresAt: refreshExpiresAt,
                    connection
                )
            }
            return record
        }
    }

    public func rotate(
        presentedHash: String,
        newHash: String,
        newExpiresAt: Date,
        now: Date
    ) async throws(SessionStoreError) -> RotationOutcome {
        try await perform { (connection) throws(SessionStoreError) -> RotationOutcome in
            try connection.immediateTransaction(operation: "rotate refresh token") {
                () throws(SessionStoreError) -> RotationOutcome in
                let found = try Self.tokenAndFamily(hash: presentedHash, connection)
                let outcome = RefreshRotation.spend(token: found?.token, family: found?.family, now: now)
                switch outcome {
                case .rotated(let family):
                    // The write lock is held, so this always changes one row; the condition is the
                    // guarantee should the lookup and this update ever be separated.
                    let changed = try connection.run(
                        "UPDATE refresh_tokens SET spent_at = ? WHERE hash = ? AND spent_at IS NULL",
                        [.integer(StoreTime.milliseconds(now)), .text(presentedHash)],
                        operation: "rotate refresh token"
                    )
                    guard changed == 1 else {
                        try Self.revoke(familyID: family.familyID, now: now, connection)
                        return .reused(familyID: family.familyID)
                    }
                    try Self.insertToken(
                        hash: newHash, familyID: family.familyID, issuedAt: now,
                        expiresAt: RefreshRotation.successorExpiry(requested: newExpiresAt, family: family),
                        connection
                    )
                    return outcome
                case .reused(let familyID):
                    // Committed although the caller answers with an error: the theft response must stick.
                    try Self.revoke(familyID: familyID, now: now, connection)
                    return outcome
                case .expired, .revoked, .unknown:
                    return outcome
                }
            }
        }
    }

    public func family(forRefreshTokenHash hash: String) async throws(SessionStoreError) -> SessionRecord? {
        try await perform { (connection) throws(SessionStoreError) -> SessionRecord? in
            try Self.tokenAndFamily(hash: hash, connection)?.family
        }
    }

    public func sessionKey(appid: String, openid: String) async throws(SessionStoreError) -> String? {
        try await perform { (connection) throws(SessionStoreError) -> String? in
            try connection.query(
                "SELECT session_key FROM wechat_users WHERE appid = ? AND openid = ?",
                [.text(appid), .text(openid)],
                table: "wechat_users",
                operation: "read session key"
            ) { (row) throws(SessionStoreError) -> String in
                try row.text(0)
            }.first
        }
    }

    public func replaceSessionKey(
        appid: String, openid: String, current: String, replacement: String, now: Date
    ) async throws(SessionStoreError) -> Bool {
        try await perform { (connection) throws(SessionStoreError) -> Bool in
            try connection.run(
                """
                UPDATE wechat_users SET session_key = ?, updated_at = MAX(updated_at, ?)
                WHERE appid = ? AND openid = ? AND session_key = ?
                """,
                [
                    .text(replacement), .integer(StoreTime.milliseconds(now)), .text(appid), .text(openid),
                    .text(current),
                ],
                operation: "replace session key"
            ) == 1
        }
    }

    // MARK: - Statements (called on the queue)

    /// Newest login wins (docs/wechat.md: one valid session_key per user); comparing `updated_at` keeps
    /// a slower, older login from overwriting a newer key. A login without unionid keeps a known one.
    private static func storeNewestSessionKey(
        _ record: SessionRecord,
        _ connection: SQLiteConnection
    ) throws(SessionStoreError) {
        try connection.run(
            """
            INSERT INTO wechat_users (appid, openid, unionid, session_key, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (appid, openid) DO UPDATE SET
                session_key = excluded.session_key,
                unionid = COALESCE(excluded.unionid, wechat_users.unionid),
                updated_at = excluded.updated_at
            WHERE excluded.updated_at >= wechat_users.updated_at
            """,
            [
                .text(record.appid), .text(record.openid), record.unionid.map { .text($0) } ?? .null,
                .text(record.sessionKey), .integer(StoreTime.milliseconds(record.createdAt)),
            ],
            operation: "store session key"
        )
    }

    private static func insertToken(
        hash: String,
        familyID: String,
        issuedAt: Date,
        expiresAt: Date,
        _ connection: SQLiteConnection
    ) throws(SessionStoreError) {
        try connection.run(
            "INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at, spent_at) VALUES (?, ?, ?, ?, NULL)",
            [
                .text(hash), .text(familyID), .integer(StoreTime.milliseconds(issuedAt)),
                .integer(StoreTime.milliseconds(expiresAt)),
            ],
            operation: "store refresh token"
        )
    }

    /// The token with this hash and its family, whatever their state.
    static func tokenAndFamily(
        hash: String,
        _ connection: SQLiteConnection
    ) throws(SessionStoreError) -> (token: RefreshTokenRecord, family: SessionRecord)? {
        try connection.query(
            """
            SELECT \(RefreshTokenRecord.storedColumns), \(SessionRecord.storedColumns)
            FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
            WHERE t.hash = ?
            """,
            [.text(hash)],
            table: "refresh_tokens",
            operation: "find refresh token"
        ) { (row) throws(SessionStoreError) -> (token: RefreshTokenRecord, family: SessionRecord) in
            (try row.refreshTokenRecord(from: 0), try row.sessionRecord(from: 5))
        }.first
    }
}
