import Foundation
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
///
/// The store by concern: opening, running an operation and availability here; what PostgreSQL errors mean in
/// `+Errors`; sessions and rotation in `+Sessions`; revocations and their feed in `+Revocations`; the purge in
/// `+Maintenance`; reading rows in `PostgresRow+Records`.
public final class PostgresSessionStore: SessionStore, Sendable {
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    let settings: PostgresSettings
    let logger: Logger
    private let state = NIOLockedValueBox(State())
    let feedStatistics = NIOLockedValueBox(RevocationFeedStatistics())
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
    static func quiet(_ logger: Logger) -> Logger {
        var copy = logger
        copy.logLevel = max(logger.logLevel, .error)
        return copy
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
    func perform<T: Sendable>(
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

    func noteAvailability(_ available: Bool) {
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
}
