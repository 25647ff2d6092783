import Foundation
import Logging
import PostgresNIO
import XCTest

@testable import SessionStore

/// What only the PostgreSQL store has, against a real server (`PostgresTestServer`): migrations under an advisory
/// lock, its schema version, one janitor at a time. What every store promises is in `SessionStoreContract`, which
/// `PostgresSessionStoreContractTests` runs against this store.
final class PostgresSessionStoreTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)
    private let day: TimeInterval = 86_400

    private func open(_ url: String) async throws -> PostgresSessionStore {
        try await PostgresSessionStore.open(
            try PostgresTestServer.location(url), options: SessionStoreOptions(poolSize: 4, timeout: .seconds(5)),
            logger: Logger(label: "test"))
    }

    private func login(
        _ store: PostgresSessionStore, token: String, openid: String, lifetime: TimeInterval
    ) async throws -> SessionRecord {
        try await store.createSession(
            openid: openid, unionid: "union-1", appid: "wx1", sessionKey: "key-1",
            refreshTokenHash: RefreshTokenHash.of(token), refreshExpiresAt: now.addingTimeInterval(lifetime), now: now)
    }

    func testPurgeSkipsItsTurnWhileAnotherInstanceHoldsTheJanitorLock() async throws {
        let url = try await PostgresTestServer.freshDatabase()
        let store = try await open(url)
        _ = try await login(store, token: "short", openid: "a", lifetime: day)
        let long = try await login(store, token: "long", openid: "b", lifetime: 30 * day)
        try await store.recordRevokedAccessToken(jti: "old", expiresAt: now.addingTimeInterval(60))
        try await store.recordRevokedAccessToken(jti: "new", expiresAt: now.addingTimeInterval(3 * day))

        // Another instance holding the janitor's lock: this one skips its turn.
        try await PostgresTestServer.withConnection(url) { other in
            try await other.withTransaction(logger: Logger(label: "test")) { connection in
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(\(PostgresMigrations.LockKey.purge))", logger: Logger(label: "test"))
                let skipped = try await store.purgeExpired(now: self.now.addingTimeInterval(2 * self.day))
                XCTAssertEqual(skipped, 0)
            }
        }
        // The lock released, the same call does the work: it was the lock that made the first one skip.
        let purged = try await store.purgeExpired(now: now.addingTimeInterval(2 * day))
        XCTAssertEqual(purged, 3)  // the short family, its token, the old revocation
        let short = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("short"))
        XCTAssertNil(short)
        let kept = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("long"))
        XCTAssertEqual(kept, long)
        await store.close()
    }

    func testMigrationsRunOnceEvenWhenInstancesOpenAtOnce() async throws {
        let url = try await PostgresTestServer.freshDatabase()
        let location = try PostgresTestServer.location(url)
        let applied = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let store = try await PostgresSessionStore.open(
                        location, options: SessionStoreOptions(poolSize: 2), logger: Logger(label: "test"))
                    await store.close()
                    return store.migrationsApplied
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        XCTAssertEqual(applied.sorted(), [0, 0, 0, PostgresMigrations.all.count])
    }

    func testNewerSchemaIsRefused() async throws {
        let url = try await PostgresTestServer.freshDatabase()
        try await PostgresTestServer.withConnection(url) { connection in
            let logger = Logger(label: "test")
            try await connection.query("CREATE TABLE gateway_schema (version INTEGER NOT NULL)", logger: logger)
            try await connection.query("INSERT INTO gateway_schema VALUES (99)", logger: logger)
        }
        do {
            _ = try await open(url)
            XCTFail("opened a schema from the future")
        } catch {
            XCTAssertEqual(
                error as? SessionStoreError, .schemaTooNew(found: 99, supported: PostgresMigrations.all.count))
        }
    }
}
