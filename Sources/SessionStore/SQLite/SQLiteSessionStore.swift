import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// The embedded `SessionStore`: one SQLite file, shareable by several gateway processes on one machine.
/// A revocation made by one process reaches the others through `followRevocations`, which polls the
/// `revocation_feed` table by sequence number (`SessionStoreOptions.sqlitePollInterval`, 250 ms by default).
///
/// - Threads: every SQLite call runs on the store's own serial `DispatchQueue`, never on the caller's
///   thread; async methods wait on it through a continuation, so a SwiftNIO event loop is never blocked.
///   Only `init` works on the calling thread (it opens and migrates the file): call it at start-up.
/// - Atomicity: decisions that read then write (`rotate`, `revokeByRefreshTokenHash`) run inside
///   `BEGIN IMMEDIATE`, which takes SQLite's write lock first, so they are atomic across connections and
///   processes, not just within this object. Lock waits are bounded by `SessionStoreOptions.sqliteBusyTimeout`.
/// - Durability: WAL journal. With the default `synchronous = NORMAL` a committed transaction survives
///   the process being killed (`kill -9`): the WAL frames are in the OS before `COMMIT` returns. Only
///   an OS crash or power loss can lose the last commits (never corrupt the file); choose
///   `SessionStoreOptions(sqliteSynchronous: .full)` to fsync at every commit if that matters more than commit
///   latency.
/// - Schema: versioned with `PRAGMA user_version`; see `SQLiteMigrations`.
///
/// The store by concern: opening and running on the queue here; sessions and rotation in `+Sessions`;
/// revocations and their feed in `+Revocations`; the purge in `+Maintenance`; reading rows in `SQLiteRow+Records`.
public final class SQLiteSessionStore: SessionStore, @unchecked Sendable {
    private let queue: DispatchQueue
    /// How often `followRevocations` reads the feed for rows other processes added.
    let pollInterval: Duration
    let feedStatistics = NIOLockedValueBox(RevocationFeedStatistics())
    /// Touched only on `queue` (after `init`), which is what makes the `@unchecked Sendable` sound.
    private var connection: SQLiteConnection?
    /// How many migrations opening this store applied (0 when the file was already current).
    let migrationsApplied: Int

    /// Opens the database at `path` (relative paths are relative to the current directory), creating the
    /// file and the schema on first start. `":memory:"` opens a private in-memory database. Of `options` it
    /// reads the `sqlite…` settings. Throws `.directoryMissing` when the file's directory does not exist.
    public init(path: String, options: SessionStoreOptions = SessionStoreOptions()) throws(SessionStoreError) {
        let connection = try SQLiteConnection(path: path)
        let timeout = options.sqliteBusyTimeout.components
        let milliseconds = timeout.seconds * 1000 + timeout.attoseconds / 1_000_000_000_000_000
        try connection.setBusyTimeout(milliseconds: Int32(clamping: milliseconds))
        if path != ":memory:" {
            try connection.execute("PRAGMA journal_mode = WAL", operation: "enable WAL")
        }
        // Constant strings from `SQLiteSynchronous`, not input: PRAGMA values cannot be bound.
        try connection.execute(
            "PRAGMA synchronous = \(options.sqliteSynchronous.rawValue)", operation: "set synchronous")
        try connection.execute("PRAGMA foreign_keys = ON", operation: "enable foreign keys")
        migrationsApplied = try SQLiteMigrations.migrate(connection)
        self.connection = connection
        pollInterval = options.sqlitePollInterval
        queue = DispatchQueue(label: "SessionStore.SQLite")
    }

    deinit {
        // Pending work items retain `self`, so nothing can still be using the connection here.
        connection?.close()
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
    func perform<T: Sendable>(
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
}
