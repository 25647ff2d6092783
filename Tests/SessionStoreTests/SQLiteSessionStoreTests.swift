import CSQLite
import Foundation
import XCTest

@testable import SessionStore

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

    private func login(
        _ store: SQLiteSessionStore,
        token: String = "t0",
        openid: String = "openid-1",
        sessionKey: String = "key-1",
        at time: Date? = nil,
        lifetime: TimeInterval? = nil
    ) async throws -> SessionRecord {
        let time = time ?? now
        return try await store.createSession(
            openid: openid, unionid: "union-1", appid: "wx1", sessionKey: sessionKey,
            refreshTokenHash: RefreshTokenHash.of(token),
            refreshExpiresAt: time.addingTimeInterval(lifetime ?? 30 * day), now: time
        )
    }

    private func rotate(
        _ store: SQLiteSessionStore, _ old: String, _ new: String, at time: Date
    ) async throws -> RotationOutcome {
        try await store.rotate(
            presentedHash: RefreshTokenHash.of(old), newHash: RefreshTokenHash.of(new),
            newExpiresAt: time.addingTimeInterval(30 * day), now: time
        )
    }

    func testCreatedSessionIsFoundByItsRefreshToken() async throws {
        let store = try openStore()
        let created = try await login(store)
        XCTAssertEqual(created.openid, "openid-1")
        XCTAssertEqual(created.unionid, "union-1")
        XCTAssertEqual(created.expiresAt, now.addingTimeInterval(30 * day))
        XCTAssertEqual(created.familyID.count, 32)
        let found = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("t0"))
        XCTAssertEqual(found, created)
        let missing = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("nope"))
        XCTAssertNil(missing)
        await store.close()
    }

    func testRotationSpendsTheOldTokenAndAcceptsTheNewOne() async throws {
        let store = try openStore()
        let created = try await login(store)
        let first = try await rotate(store, "t0", "t1", at: now.addingTimeInterval(60))
        XCTAssertEqual(first, .rotated(created))
        let second = try await rotate(store, "t1", "t2", at: now.addingTimeInterval(120))
        XCTAssertEqual(second, .rotated(created))
        await store.close()
    }

    func testSpentRefreshTokenRevokesFamily() async throws {
        let store = try openStore()
        let created = try await login(store)
        _ = try await rotate(store, "t0", "t1", at: now.addingTimeInterval(60))

        let replay = try await rotate(store, "t0", "t-thief", at: now.addingTimeInterval(90))
        XCTAssertEqual(replay, .reused(familyID: created.familyID))

        let family = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("t1"))
        XCTAssertEqual(family?.revokedAt, now.addingTimeInterval(90))
        // The legitimate successor is refused as well: the family is over.
        let successor = try await rotate(store, "t1", "t2", at: now.addingTimeInterval(120))
        XCTAssertEqual(successor, .revoked)
        // The thief's would-be token was never stored.
        let thief = try await rotate(store, "t-thief", "t3", at: now.addingTimeInterval(130))
        XCTAssertEqual(thief, .unknown)
        await store.close()
    }

    func testExpiredTokenIsRefused() async throws {
        let store = try openStore()
        _ = try await login(store, lifetime: day)
        let outcome = try await rotate(store, "t0", "t1", at: now.addingTimeInterval(day))
        XCTAssertEqual(outcome, .expired)
        await store.close()
    }

    func testRotationNeverExtendsTheFamily() async throws {
        let store = try openStore()
        _ = try await login(store, lifetime: day)
        _ = try await rotate(store, "t0", "t1", at: now.addingTimeInterval(day - 10))
        // t1 was requested for 30 days but the family ends after one.
        let outcome = try await rotate(store, "t1", "t2", at: now.addingTimeInterval(day + 1))
        XCTAssertEqual(outcome, .expired)
        await store.close()
    }

    func testUnknownTokenIsUnknown() async throws {
        let store = try openStore()
        let outcome = try await rotate(store, "never-issued", "t1", at: now)
        XCTAssertEqual(outcome, .unknown)
        await store.close()
    }

    func testConcurrentRotationsOfOneTokenHaveExactlyOneWinner() async throws {
        let store = try openStore()
        let created = try await login(store)
        let outcomes = try await rotateConcurrently(stores: [store], count: 8)
        XCTAssertEqual(outcomes.filter { if case .rotated = $0 { true } else { false } }.count, 1)
        XCTAssertEqual(outcomes.filter { $0 == .reused(familyID: created.familyID) }.count, 7)
        // Documented consequence: the losers' replay revoked the family, so the winner's token is refused too.
        var successorOutcomes: [RotationOutcome] = []
        for index in 0..<8 {
            successorOutcomes.append(try await rotate(store, "new-\(index)", "later", at: now.addingTimeInterval(60)))
        }
        XCTAssertEqual(successorOutcomes.filter { $0 == .revoked }.count, 1)
        XCTAssertEqual(successorOutcomes.filter { $0 == .unknown }.count, 7)
        await store.close()
    }

    func testConcurrentRotationsAcrossConnectionsHaveExactlyOneWinner() async throws {
        // Separate connections to one file stand in for several gateway processes: only SQLite's own lock
        // can make this atomic.
        let stores = try (0..<4).map { _ in try openStore() }
        _ = try await login(stores[0])
        let outcomes = try await rotateConcurrently(stores: stores, count: 8)
        XCTAssertEqual(outcomes.filter { if case .rotated = $0 { true } else { false } }.count, 1)
        XCTAssertEqual(outcomes.filter { if case .reused = $0 { true } else { false } }.count, 7)
        for store in stores {
            await store.close()
        }
    }

    private func rotateConcurrently(stores: [SQLiteSessionStore], count: Int) async throws -> [RotationOutcome] {
        let presented = RefreshTokenHash.of("t0")
        let time = now.addingTimeInterval(60)
        return try await withThrowingTaskGroup(of: RotationOutcome.self) { group in
            for index in 0..<count {
                let store = stores[index % stores.count]
                group.addTask {
                    try await store.rotate(
                        presentedHash: presented, newHash: RefreshTokenHash.of("new-\(index)"),
                        newExpiresAt: time.addingTimeInterval(86_400), now: time
                    )
                }
            }
            var outcomes: [RotationOutcome] = []
            for try await outcome in group {
                outcomes.append(outcome)
            }
            return outcomes
        }
    }

    func testRevokeByRefreshTokenHashEndsTheSession() async throws {
        let store = try openStore()
        _ = try await login(store)
        _ = try await rotate(store, "t0", "t1", at: now.addingTimeInterval(10))
        let revokedKnown = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of("t1"), now: now)
        XCTAssertTrue(revokedKnown)
        let revokedUnknown = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of("zzz"), now: now)
        XCTAssertFalse(revokedUnknown)
        let outcome = try await rotate(store, "t1", "t2", at: now.addingTimeInterval(20))
        XCTAssertEqual(outcome, .revoked)
        await store.close()
    }

    func testRevokeFamilyIsIdempotent() async throws {
        let store = try openStore()
        let created = try await login(store)
        let first = try await store.revokeFamily(familyID: created.familyID, now: now)
        let second = try await store.revokeFamily(familyID: created.familyID, now: now.addingTimeInterval(5))
        XCTAssertTrue(first)
        XCTAssertFalse(second)
        let family = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("t0"))
        XCTAssertEqual(family?.revokedAt, now, "the first revocation time is kept")
        await store.close()
    }

    func testRevokedAccessTokensSurviveRestart() async throws {
        let store = try openStore()
        try await store.recordRevokedAccessToken(jti: "jti-live", expiresAt: now.addingTimeInterval(900))
        try await store.recordRevokedAccessToken(jti: "jti-gone", expiresAt: now.addingTimeInterval(-1))
        await store.close()

        let reopened = try openStore()
        let revoked = try await reopened.revokedAccessTokens(now: now)
        XCTAssertEqual(revoked.map(\.jti), ["jti-live"])
        XCTAssertEqual(revoked.first?.expiresAt, now.addingTimeInterval(900))
        await reopened.close()
    }

    func testRevocationsRecordedByAnotherProcessReachTheFollower() async throws {
        let writer = try openStore()
        try await writer.recordRevokedAccessToken(jti: "before", expiresAt: Date().addingTimeInterval(900))
        let reader = try SQLiteSessionStore(path: path, options: .init(revocationPollInterval: .milliseconds(20)))
        let received = AsyncStream<RevokedAccessToken>.makeStream()
        let follower = Task {
            await reader.followRevocations { batch in
                for revocation in batch { received.continuation.yield(revocation) }
            }
        }
        var iterator = received.stream.makeAsyncIterator()
        var seen: [String] = []
        while !seen.contains("before"), let next = await iterator.next() { seen.append(next.jti) }
        // Written after the follower's first full read: found by the poll of the feed, past its cursor.
        try await writer.recordRevokedAccessToken(jti: "after", expiresAt: Date().addingTimeInterval(900))
        while !seen.contains("after"), let next = await iterator.next() { seen.append(next.jti) }
        XCTAssertEqual(seen, ["before", "after"])
        follower.cancel()
        await follower.value
        await reader.close()
        await writer.close()
    }

    func testRevokingAnAccessTokenTwiceKeepsTheLaterExpiry() async throws {
        let store = try openStore()
        try await store.recordRevokedAccessToken(jti: "j", expiresAt: now.addingTimeInterval(900))
        try await store.recordRevokedAccessToken(jti: "j", expiresAt: now.addingTimeInterval(60))
        let revoked = try await store.revokedAccessTokens(now: now)
        XCTAssertEqual(revoked.map(\.expiresAt), [now.addingTimeInterval(900)])
        await store.close()
    }

    func testValuesAreBoundNotSpliced() async throws {
        let store = try openStore()
        let hostile = "x'); DROP TABLE refresh_tokens; --"
        _ = try await login(store, token: "t0", openid: hostile, sessionKey: "k'\"")
        let key = try await store.sessionKey(appid: "wx1", openid: hostile)
        XCTAssertEqual(key, "k'\"")
        let found = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("t0"))
        XCTAssertEqual(found?.openid, hostile)
        await store.close()
    }

    func testSessionsSurviveRestartAndMigrationsRunOnce() async throws {
        let store = try openStore()
        XCTAssertEqual(store.migrationsApplied, SQLiteMigrations.all.count)
        let created = try await login(store)
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

    func testPurgeRemovesOnlyExpiredRows() async throws {
        let store = try openStore()
        _ = try await login(store, token: "short", openid: "a", lifetime: day)
        let long = try await login(store, token: "long", openid: "b", lifetime: 30 * day)
        try await store.recordRevokedAccessToken(jti: "old", expiresAt: now.addingTimeInterval(60))
        try await store.recordRevokedAccessToken(jti: "new", expiresAt: now.addingTimeInterval(3 * day))

        let purged = try await store.purgeExpired(now: now.addingTimeInterval(2 * day))
        XCTAssertEqual(purged, 3)  // the short family, its token, the old revocation

        let short = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("short"))
        XCTAssertNil(short)
        let kept = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("long"))
        XCTAssertEqual(kept, long)
        let revoked = try await store.revokedAccessTokens(now: now)
        XCTAssertEqual(revoked.map(\.jti), ["new"])
        let again = try await store.purgeExpired(now: now.addingTimeInterval(2 * day))
        XCTAssertEqual(again, 0)
        await store.close()
    }

    func testNewestSessionKeyWinsPerUser() async throws {
        let store = try openStore()
        _ = try await login(store, token: "a", sessionKey: "key-old", at: now)
        _ = try await login(store, token: "b", sessionKey: "key-new", at: now.addingTimeInterval(60))
        // A slow request for an older login must not overwrite the newer key.
        _ = try await login(store, token: "c", sessionKey: "key-stale", at: now.addingTimeInterval(30))
        _ = try await login(store, token: "d", openid: "someone-else", sessionKey: "key-other")

        let key = try await store.sessionKey(appid: "wx1", openid: "openid-1")
        XCTAssertEqual(key, "key-new")
        let other = try await store.sessionKey(appid: "wx1", openid: "someone-else")
        XCTAssertEqual(other, "key-other")
        let otherApp = try await store.sessionKey(appid: "wx2", openid: "openid-1")
        XCTAssertNil(otherApp)
        await store.close()
    }

    func testClosedStoreThrowsClosed() async throws {
        let store = try openStore()
        try await store.ping()
        await store.close()
        do {
            try await store.ping()
            XCTFail("ping after close succeeded")
        } catch {
            XCTAssertEqual(error, .closed)
        }
    }

    func testInMemoryStoreFromURL() async throws {
        let store = try await makeSessionStore(url: "sqlite::memory:")
        try await store.ping()
        let outcome = try await store.rotate(presentedHash: "x", newHash: "y", newExpiresAt: now, now: now)
        XCTAssertEqual(outcome, .unknown)
        await store.close()
    }

    func testErrorsDoNotContainTokenHashes() async throws {
        let store = try openStore()
        _ = try await login(store, token: "dup")
        do {
            _ = try await login(store, token: "dup")  // same hash twice violates the primary key
            XCTFail("duplicate token hash accepted")
        } catch {
            XCTAssertFalse("\(error)".contains(RefreshTokenHash.of("dup")), "\(error)")
            XCTAssertFalse("\(error)".contains("key-1"), "\(error)")
        }
        await store.close()
    }

    private func schemaVersion() throws -> Int {
        let connection = try SQLiteConnection(path: path)
        defer { connection.close() }
        return try SQLiteMigrations.version(connection)
    }
}
