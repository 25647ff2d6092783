import Dispatch
import Foundation
import JSON
import NIOConcurrencyHelpers

/// The embedded `SessionStore`: one SQLite file, shareable by several gateway processes on one machine.
/// A revocation made by one process reaches the others through `followRevocations`, which polls the
/// `revocation_feed` table by sequence number (`Options.revocationPollInterval`, 250 ms by default).
///
/// - Threads: every SQLite call runs on the store's own serial `DispatchQueue`, never on the caller's
///   thread; async methods wait on it through a continuation, so a SwiftNIO event loop is never blocked.
///   Only `init` works on the calling thread (it opens and migrates the file): call it at start-up.
/// - Atomicity: decisions that read then write (`rotate`, `revokeByRefreshTokenHash`) run inside
///   `BEGIN IMMEDIATE`, which takes SQLite's write lock first, so they are atomic across connections and
///   processes, not just within this object. Lock waits are bounded by `Options.busyTimeout`.
/// - Durability: WAL journal. With the default `synchronous = NORMAL` a committed transaction survives
///   the process being killed (`kill -9`): the WAL frames are in the OS before `COMMIT` returns. Only
///   an OS crash or power loss can lose the last commits (never corrupt the file); choose
///   `Options(synchronous: .full)` to fsync at every commit if that matters more than commit latency.
/// - Schema: versioned with `PRAGMA user_version`; see `SQLiteMigrations`.
public final class SQLiteSessionStore: SessionStore, @unchecked Sendable {
    /// Tuning for `SQLiteSessionStore`.
    public struct Options: Sendable {
        /// SQLite's `PRAGMA synchronous` in WAL mode.
        public enum Synchronous: String, Sendable {
            /// Survives process crashes; an OS crash may lose the latest commits.
            case normal = "NORMAL"
            /// Also survives OS crashes and power loss; one fsync per commit.
            case full = "FULL"
        }

        /// How long to wait for another process's write lock before failing with a `.sqlite` busy error.
        public var busyTimeout: Duration
        public var synchronous: Synchronous
        /// How often `followRevocations` reads the revocation feed for rows other processes added.
        public var revocationPollInterval: Duration

        public init(
            busyTimeout: Duration = .seconds(5), synchronous: Synchronous = .normal,
            revocationPollInterval: Duration = .milliseconds(250)
        ) {
            self.busyTimeout = busyTimeout
            self.synchronous = synchronous
            self.revocationPollInterval = revocationPollInterval
        }
    }

    private let queue: DispatchQueue
    private let pollInterval: Duration
    private let feedStatistics = NIOLockedValueBox(RevocationFeedStatistics())
    /// Touched only on `queue` (after `init`), which is what makes the `@unchecked Sendable` sound.
    private var connection: SQLiteConnection?
    /// How many migrations opening this store applied (0 when the file was already current).
    let migrationsApplied: Int

    /// Opens the database at `path` (relative paths are relative to the current directory), creating the
    /// file and the schema on first start. `":memory:"` opens a private in-memory database.
    /// Throws `.directoryMissing` when the file's directory does not exist.
    public init(path: String, options: Options = Options()) throws(SessionStoreError) {
        let connection = try SQLiteConnection(path: path)
        let timeout = options.busyTimeout.components
        let milliseconds = timeout.seconds * 1000 + timeout.attoseconds / 1_000_000_000_000_000
        try connection.setBusyTimeout(milliseconds: Int32(clamping: milliseconds))
        if path != ":memory:" {
            try connection.execute("PRAGMA journal_mode = WAL", operation: "enable WAL")
        }
        // Constant strings from `Synchronous`, not input: PRAGMA values cannot be bound.
        try connection.execute("PRAGMA synchronous = \(options.synchronous.rawValue)", operation: "set synchronous")
        try connection.execute("PRAGMA foreign_keys = ON", operation: "enable foreign keys")
        migrationsApplied = try SQLiteMigrations.migrate(connection)
        self.connection = connection
        pollInterval = options.revocationPollInterval
        queue = DispatchQueue(label: "SessionStore.SQLite")
    }

    deinit {
        // Pending work items retain `self`, so nothing can still be using the connection here.
        connection?.close()
    }

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
                RevokedAccessToken(jti: try row.text(0), expiresAt: try row.date(1))
            }
        }
        return rows.map { (jti: $0.jti, expiresAt: $0.expiresAt) }
    }

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

    public func ping() async throws(SessionStoreError) {
        try await perform { (connection) throws(SessionStoreError) in
            _ = try connection.query("SELECT 1", [], table: "ping", operation: "ping") {
                (row) throws(SessionStoreError) -> Int64 in try row.integer(0)
            }
        }
    }

    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.connection?.close()
                self.connection = nil
                continuation.resume()
            }
        }
    }

    // MARK: - Running on the queue

    /// Runs `body` on the store's queue with the open connection and hands its result back.
    private func perform<T: Sendable>(
        _ body: @escaping @Sendable (SQLiteConnection) throws(SessionStoreError) -> T
    ) async throws(SessionStoreError) -> T {
        typealias Answer = CheckedContinuation<Result<T, SessionStoreError>, Never>
        let result = await withCheckedContinuation { (continuation: Answer) in
            queue.async {
                guard let connection = self.connection else {
                    continuation.resume(returning: .failure(.closed))
                    return
                }
                continuation.resume(returning: Result { () throws(SessionStoreError) -> T in try body(connection) })
            }
        }
        return try result.get()
    }

    /// Runs `body` with the connection on the store's queue, blocking the caller. Tests only (pragmas,
    /// schema version); production code goes through the async methods.
    func connectionForTests<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try queue.sync {
            guard let connection else {
                throw SessionStoreError.closed
            }
            return try body(connection)
        }
    }

    // MARK: - Statements (called on the queue)

    private static let familyColumns =
        "f.id, f.openid, f.unionid, f.appid, f.session_key, f.created_at, f.expires_at, f.revoked_at"

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

    @discardableResult
    private static func revoke(
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

    private static func tokenAndFamily(
        hash: String,
        _ connection: SQLiteConnection
    ) throws(SessionStoreError) -> (token: RefreshTokenRecord, family: SessionRecord)? {
        try connection.query(
            """
            SELECT t.hash, t.family_id, t.issued_at, t.expires_at, t.spent_at, \(familyColumns)
            FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
            WHERE t.hash = ?
            """,
            [.text(hash)],
            table: "refresh_tokens",
            operation: "find refresh token"
        ) { (row) throws(SessionStoreError) -> (token: RefreshTokenRecord, family: SessionRecord) in
            let token = RefreshTokenRecord(
                hash: try row.text(0),
                familyID: try row.text(1),
                issuedAt: try row.date(2),
                expiresAt: try row.date(3),
                spentAt: try row.optionalDate(4)
            )
            return (token, try family(row, from: 5))
        }.first
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
                RevokedAccessToken(jti: try row.text(0), expiresAt: try row.date(1))
            }
            return (all, end)
        }
        let rows = try connection.query(
            "SELECT seq, jti, expires_at FROM revocation_feed WHERE seq > ? ORDER BY seq LIMIT 10000",
            [.integer(cursor)], table: "revocation_feed", operation: "follow revocations"
        ) { (row) throws(SessionStoreError) -> (Int64, RevokedAccessToken) in
            (try row.integer(0), RevokedAccessToken(jti: try row.text(1), expiresAt: try row.date(2)))
        }
        return (rows.map(\.1), rows.last?.0 ?? cursor)
    }

    private static func family(_ row: SQLiteRow, from first: Int32) throws(SessionStoreError) -> SessionRecord {
        SessionRecord(
            familyID: try row.text(first),
            openid: try row.text(first + 1),
            unionid: row.optionalText(first + 2),
            appid: try row.text(first + 3),
            sessionKey: try row.text(first + 4),
            createdAt: try row.date(first + 5),
            expiresAt: try row.date(first + 6),
            revokedAt: try row.optionalDate(first + 7)
        )
    }
}
