import CSQLite
import Foundation
import XCTest

@testable import SessionStore

/// What only the SQLite store has: its file, its schema version, its pragmas, the in-memory URL. What every store
/// promises is in `SessionStoreContract`, which `SQLiteSessionStoreContractTests` runs against this store.
final class SQLiteSessionStoreTests: XCTestCase {
    private var directory: URL!
    private let now = Date(timeIntervalSince1970: 1_800_000_000)
    private let day: TimeInterval = 86_400

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("SessionStoreTests-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private var path: String { directory.appendingPathComponent("gateway.db").path }

    private func openStore() throws -> SQLiteSessionStore {
        try SQLiteSessionStore(path: path)
    }

    func testSessionsSurviveRestartAndMigrationsRunOnce() async throws {
        let store = try openStore()
        XCTAssertEqual(store.migrationsApplied, SQLiteMigrations.all.count)
        let created = try await store.createSession(
            openid: "openid-1", unionid: "union-1", appid: "wx1", sessionKey: "key-1",
            refreshTokenHash: RefreshTokenHash.of("t0"), refreshExpiresAt: now.addingTimeInterval(30 * day), now: now)
        await store.close()

        let reopened = try openStore()
        XCTAssertEqual(reopened.migrationsApplied, 0)
        let found = try await reopened.family(forRefreshTokenHash: RefreshTokenHash.of("t0"))
        XCTAssertEqual(found, created)
        await reopened.close()
        XCTAssertEqual(try schemaVersion(), SQLiteMigrations.all.count)
    }

    func testNewerSchemaIsRefused() throws {
        try SQLiteSessionStore(path: path).connectionForTests { connection in
            try connection.execute("PRAGMA user_version = 99", operation: "test")
        }
        XCTAssertThrowsError(try openStore()) { error in
            XCTAssertEqual(error as? SessionStoreError, .schemaTooNew(found: 99, supported: SQLiteMigrations.all.count))
        }
    }

    func testMissingDirectoryIsAnError() {
        let nested = directory.appendingPathComponent("no-such-dir/gateway.db").path
        XCTAssertThrowsError(try SQLiteSessionStore(path: nested)) { error in
            XCTAssertEqual(
                error as? SessionStoreError,
                .directoryMissing(path: directory.appendingPathComponent("no-such-dir").path)
            )
        }
    }

    func testDatabaseUsesWALAndForeignKeys() throws {
        let store = try openStore()
        try store.connectionForTests { connection in
            let mode = try connection.query("PRAGMA journal_mode", [], table: "pragma", operation: "test") {
                (row) throws(SessionStoreError) -> String in try row.text(0)
            }
            XCTAssertEqual(mode, ["wal"])
            let keys = try connection.query("PRAGMA foreign_keys", [], table: "pragma", operation: "test") {
                (row) throws(SessionStoreError) -> Int64 in try row.integer(0)
            }
            XCTAssertEqual(keys, [1])
        }
    }

    func testSynchronousIsTheOneTheOptionsName() throws {
        // PRAGMA synchronous reads back 1 for NORMAL, 2 for FULL.
        for (synchronous, expected) in [(SQLiteSynchronous.normal, Int64(1)), (.full, 2)] {
            let store = try SQLiteSessionStore(path: path, options: SessionStoreOptions(sqliteSynchronous: synchronous))
            try store.connectionForTests { connection in
                let value = try connection.query("PRAGMA synchronous", [], table: "pragma", operation: "test") {
                    (row) throws(SessionStoreError) -> Int64 in try row.integer(0)
                }
                XCTAssertEqual(value, [expected], "\(synchronous)")
            }
        }
    }

    func testAUsersSessionsAreFoundThroughTheOpenidIndexNotAScan() throws {
        let store = try openStore()
        try store.connectionForTests { connection in
            // EXPLAIN QUERY PLAN's fourth column is the plan step, e.g. "SEARCH f USING INDEX ...".
            let plan = try connection.query(
                "EXPLAIN QUERY PLAN SELECT id FROM refresh_families WHERE openid = ? AND appid = ?",
                [.text("o"), .text("a")], table: "refresh_families", operation: "test"
            ) { (row) throws(SessionStoreError) -> String in try row.text(3) }
            XCTAssertTrue(plan.contains { $0.contains("refresh_families_openid") }, "\(plan)")
        }
    }

    func testInMemoryStoreFromURL() async throws {
        let store = try await makeSessionStore(url: "sqlite::memory:")
        try await store.ping()
        let outcome = try await store.rotate(presentedHash: "x", newHash: "y", newExpiresAt: now, now: now)
        XCTAssertEqual(outcome, .unknown)
        await store.close()
    }

    private func schemaVersion() throws -> Int {
        let connection = try SQLiteConnection(path: path)
        defer { connection.close() }
        return try SQLiteMigrations.version(connection)
    }
}
