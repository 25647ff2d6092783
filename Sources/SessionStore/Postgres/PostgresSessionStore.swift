import Foundation
import JSON
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// The `SessionStore` for a fleet: several gateway instances share sessions, refresh rotation and
/// revocations through one PostgreSQL database (`[store] url = "postgres://…"`), over postgres-nio's
/// `PostgresClient` pool.
///
/// - Atomicity across instances: `rotate` locks the family row (`SELECT … FOR UPDATE`) before it reads
///   the token, and every change to a family's tokens holds that lock, so of concurrent rotations of one
///   token exactly one wins, whichever instance runs them; the others find it spent and revoke the family
///   (RFC 9700 section 4.14.2), as the SQLite store does.
/// - Revocations: rows of `revoked_access_tokens`, numbered in commit order; every instance reads the rows
///   after its high-water mark when a `pg_notify` (sent in the same statement) wakes it, and every 30 s
///   (`followRevocations`). A notification carries no authority: anyone who can connect can send one.
/// - Outages: every operation is bounded by `OperationDeadline` (`[store] timeout`) and fails with
///   `.unavailable`, which the auth endpoints answer with 503; the pool reconnects by itself.
/// - Errors never carry the password: the URL is parsed once, and only the server's message and
///   SQLSTATE are kept from a `PSQLError`.
public final class PostgresSessionStore: SessionStore, Sendable {
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let settings: PostgresSettings
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    private let feedStatistics = NIOLockedValueBox(RevocationFeedStatistics())
    /// How many migrations opening this store applied (0 when the schema was already current).
    public let migrationsApplied: Int

    private struct State {
        var closed = false
        var available = true
    }

    /// Connects (a first direct connection, so that a wrong password, a refused port or a TLS mismatch is
    /// reported as itself), starts the pool and migrates the schema.
    public static func open(
        _ location: StoreURL.PostgresLocation, options: SessionStoreOptions, logger: Logger
    ) async throws(SessionStoreError) -> PostgresSessionStore {
        let settings = try PostgresSettings(location, options: options)
        let configuration = try settings.connectionConfiguration()
        do {
            let probe = try await PostgresConnection.connect(
                configuration: configuration, id: 0, logger: Self.quiet(logger))
            try? await probe.close()
        } catch {
            throw settings.connectFailure(error)
        }
        let client = PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: quiet(logger))
        let runner = Task { await client.run() }
        let applied: Int
        do {
            applied = try await OperationDeadline.run(operation: "migrate", timeout: options.timeout * 10) { _ in
                try await PostgresMigrations.migrate(client, logger: Self.quiet(logger))
            }
        } catch {
            runner.cancel()
            await runner.value
            throw map(error, operation: "migrate")
        }
        return PostgresSessionStore(
            client: client, runner: runner, settings: settings, logger: logger, migrationsApplied: applied)
    }

    private init(
        client: PostgresClient, runner: Task<Void, Never>, settings: PostgresSettings, logger: Logger,
        migrationsApplied: Int
    ) {
        self.client = client
        self.runner = runner
        self.settings = settings
        self.logger = logger
        self.migrationsApplied = migrationsApplied
    }

    /// postgres-nio logs every query at debug and connection trouble at its own levels; the gateway reports
    /// store trouble itself, once per outage, so the library's background logger only speaks at errors.
    private static func quiet(_ logger: Logger) -> Logger {
        var copy = logger
        copy.logLevel = max(logger.logLevel, .error)
        return copy
    }

    // MARK: - SessionStore

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
                let (id, openid, unionid, appid, key, created, expires, revoked) = row
                rows.append(
                    SessionRecord(
                        familyID: id, openid: openid, unionid: unionid, appid: appid, sessionKey: key,
                        createdAt: StoreTime.date(created), expiresAt: StoreTime.date(expires),
                        revokedAt: revoked.map(StoreTime.date)))
            }
            return rows.first
        }
        if let fast { return .rotated(fast) }
        // Every other case, decided by the pure rule under the family's lock.
        return try await perform("rotate refresh token", transaction: true) { connection in
            // The family first and locked: every writer of a family's tokens holds this lock, so the token
            // read next is current, and the lock order (family, then token) is the same everywhere.
            let family = try await Self.families(
                connection.query(
                    """
                    SELECT \(unescaped: Self.familyColumns) FROM refresh_families f
                    WHERE f.id = (SELECT family_id FROM refresh_tokens WHERE hash = \(presentedHash))
                    FOR UPDATE
                    """,
                    logger: logger)
            ).first
            guard let family else { return RotationOutcome.unknown }
            let token = try await connection.query(
                """
                SELECT hash, family_id, issued_at, expires_at, spent_at FROM refresh_tokens
                WHERE hash = \(presentedHash)
                """,
                logger: logger
            ).collect().first.map { row in
                let (hash, familyID, issued, expires, spent) = try row.decode(
                    (String, String, Int64, Int64, Int64?).self)
                return RefreshTokenRecord(
                    hash: hash, familyID: familyID, issuedAt: StoreTime.date(issued),
                    expiresAt: StoreTime.date(expires), spentAt: spent.map(StoreTime.date))
            }
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

    public func family(forRefreshTokenHash hash: String) async throws(SessionStoreError) -> SessionRecord? {
        let logger = Self.quiet(self.logger)
        return try await perform("find refresh token") { connection in
            try await Self.families(
                connection.query(
                    """
                    SELECT \(unescaped: Self.familyColumns) FROM refresh_tokens t
                    JOIN refresh_families f ON f.id = t.family_id WHERE t.hash = \(hash)
                    """,
                    logger: logger)
            ).first
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

    public func ping() async throws(SessionStoreError) {
        let logger = Self.quiet(self.logger)
        try await perform("ping") { connection in
            try await connection.query("SELECT 1", logger: logger)
        }
    }

    public var isAvailable: Bool {
        state.withLockedValue { $0.available }
    }

    public func close() async {
        let first = state.withLockedValue { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        runner.cancel()
        await runner.value
    }

    // MARK: - Running an operation

    /// Runs `body` on a pooled connection (inside a transaction when asked), bounded by the deadline, and
    /// turns every failure into a `SessionStoreError`. Tracks availability for `isAvailable`.
    @discardableResult
    private func perform<T: Sendable>(
        _ operation: String, transaction: Bool = false,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(SessionStoreError) -> T {
        if state.withLockedValue({ $0.closed }) { throw .closed }
        let client = self.client
        let logger = Self.quiet(self.logger)
        do {
            let result = try await OperationDeadline.run(operation: operation, timeout: settings.options.timeout) {
                deadline in
                try await client.withConnection { connection in
                    deadline.markStarted()
                    if transaction {
                        return try await connection.withTransaction(logger: logger) { try await body($0) }
                    }
                    return try await body(connection)
                }
            }
            noteAvailability(true)
            return result
        } catch {
            let mapped = Self.map(error, operation: operation)
            if case .unavailable = mapped { noteAvailability(false) }
            throw mapped
        }
    }

    private func noteAvailability(_ available: Bool) {
        let changed = state.withLockedValue { state -> Bool in
            defer { state.available = available }
            return state.available != available
        }
        guard changed else { return }
        if available {
            logger.notice("session store reachable again")
        } else {
            logger.warning("session store unreachable: auth endpoints answer 503 until it is back")
        }
    }

    /// SQLSTATE classes that mean "try again later" rather than "this statement is wrong": connection
    /// exceptions (08), insufficient resources (53), operator intervention such as a shutdown or a
    /// statement timeout (57), and transaction rollbacks such as a detected deadlock (40).
    private static let transientClasses: Set<String> = ["08", "40", "53", "57"]

    static func map(_ error: any Error, operation: String) -> SessionStoreError {
        if let error = error as? SessionStoreError { return error }
        if let error = error as? PostgresTransactionError {
            // What went wrong inside the transaction says more than the wrapper; a rollback error only
            // follows one of the others.
            if let cause = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError {
                return map(cause, operation: operation)
            }
        }
        if let error = error as? PSQLError {
            if let sqlState = error.serverInfo?[.sqlState] {
                let message = error.serverInfo?[.message] ?? "no message"
                if transientClasses.contains(String(sqlState.prefix(2))) {
                    return .unavailable(operation: operation, reason: "\(message) (\(sqlState))")
                }
                return .postgres(operation: operation, sqlState: sqlState, message: message)
            }
            let underlying = error.underlying.map { ": \(String(describing: $0))" } ?? ""
            return .unavailable(operation: operation, reason: "\(error.code)\(underlying)")
        }
        if error is CancellationError {
            return .unavailable(operation: operation, reason: "cancelled")
        }
        return .unavailable(operation: operation, reason: String(describing: error))
    }

    // MARK: - Statements

    private static let familyColumns =
        "f.id, f.openid, f.unionid, f.appid, f.session_key, f.created_at, f.expires_at, f.revoked_at"

    private static func families(_ rows: PostgresRowSequence) async throws -> [SessionRecord] {
        try await rows.collect().map { row in
            let (id, openid, unionid, appid, key, created, expires, revoked) = try row.decode(
                (String, String, String?, String, String, Int64, Int64, Int64?).self)
            return SessionRecord(
                familyID: id, openid: openid, unionid: unionid, appid: appid, sessionKey: key,
                createdAt: StoreTime.date(created), expiresAt: StoreTime.date(expires),
                revokedAt: revoked.map(StoreTime.date))
        }
    }

    @discardableResult
    private static func revoke(
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
