import Foundation
import Logging
import PostgresNIO
import XCTest

@testable import SessionStore

/// Following revocations on PostgreSQL against a real server (issue 22 item 9): a notification only wakes the
/// reader, which learns revocations from rows read after its high-water mark. What every store's feed promises
/// (delivery across instances, expired rows after an absence, no row left behind by concurrent writers) is in
/// `SessionStoreContract`; these are PostgreSQL's own: NOTIFY, the reconcile, paging, retention.
final class PostgresRevocationFeedTests: XCTestCase {
    private let logger = Logger(label: "test")

    private func open(_ url: String, reconcile: Duration = .seconds(30)) async throws -> PostgresSessionStore {
        try await PostgresSessionStore.open(
            try PostgresTestServer.location(url),
            options: SessionStoreOptions(poolSize: 2, timeout: .seconds(5), postgresReconcileInterval: reconcile),
            logger: logger)
    }

    private typealias Follower = SessionStoreContract.Follower

    private func waitUntil(_ what: String, _ condition: @Sendable () -> Bool) async throws {
        try await SessionStoreContract.waitUntil(what, condition)
    }

    func testForgedNotificationRevokesNothing() async throws {
        let url = try await PostgresTestServer.freshDatabase(prefix: "f_")
        let writer = try await open(url)
        let reader = try await open(url)
        let follower = Follower(reader)
        // A row recorded before and one after: once the second is delivered the listener is listening.
        try await writer.recordRevokedAccessToken(jti: "real-1", expiresAt: Date().addingTimeInterval(900))
        try await follower.waitFor("real-1")
        let expiry = StoreTime.milliseconds(Date().addingTimeInterval(900))
        // What any role that can connect may send: PostgreSQL checks no privilege on NOTIFY.
        try await PostgresTestServer.withConnection(url) { connection in
            for payload in ["\(expiry) forged-jti", "\(expiry) sid:forged-session", "*"] {
                try await connection.query(
                    "SELECT pg_notify(\(RevocationNotice.channel), \(payload))", logger: self.logger)
            }
        }
        // Notifications arrive in commit order: when this one is in, the forged ones have been handled.
        try await writer.recordRevokedAccessToken(jti: "real-2", expiresAt: Date().addingTimeInterval(900))
        try await follower.waitFor("real-2")
        let seen = follower.seen.withLockedValue { $0 }
        XCTAssertFalse(seen.contains("forged-jti"), "\(seen)")
        XCTAssertFalse(seen.contains("sid:forged-session"), "\(seen)")
        // The `*` of the previous release reloaded every revocation: real-1 would have come twice.
        XCTAssertEqual(seen.filter { $0 == "real-1" }.count, 1, "\(seen)")
        await follower.stop()
        await writer.close()
        await reader.close()
    }

    func testBurstOfNotificationsCoalescesIntoFewReads() async throws {
        let url = try await PostgresTestServer.freshDatabase(prefix: "f_")
        let writer = try await open(url)
        let reader = try await open(url)
        let follower = Follower(reader)
        try await writer.recordRevokedAccessToken(jti: "before", expiresAt: Date().addingTimeInterval(900))
        try await follower.waitFor("before")
        let readsBefore = reader.revocationFeedStatistics.reads
        let burst = 1000
        try await PostgresTestServer.withConnection(url) { connection in
            // Distinct payloads, or PostgreSQL would fold them into one notification.
            try await connection.query(
                """
                SELECT count(pg_notify(\(RevocationNotice.channel), 'wake ' || g))
                FROM generate_series(1, \(burst)) AS g
                """,
                logger: self.logger)
        }
        try await writer.recordRevokedAccessToken(jti: "after", expiresAt: Date().addingTimeInterval(900))
        try await follower.waitFor("after")
        let reads = reader.revocationFeedStatistics.reads - readsBefore
        XCTAssertGreaterThanOrEqual(reads, 1)
        XCTAssertLessThan(reads, burst / 20, "\(burst) notifications cost \(reads) reads")
        await follower.stop()
        await writer.close()
        await reader.close()
    }

    func testReconcileReadsOnlyNewRows() async throws {
        let url = try await PostgresTestServer.freshDatabase(prefix: "f_")
        let writer = try await open(url)
        let existing = 200
        for index in 0..<existing {
            try await writer.recordRevokedAccessToken(jti: "old-\(index)", expiresAt: Date().addingTimeInterval(900))
        }
        let reader = try await open(url, reconcile: .milliseconds(100))
        let follower = Follower(reader)
        try await follower.waitFor("old-\(existing - 1)")
        let start = reader.revocationFeedStatistics
        XCTAssertEqual(start.rowsRead, existing)
        for index in 0..<3 {
            try await writer.recordRevokedAccessToken(jti: "new-\(index)", expiresAt: Date().addingTimeInterval(900))
        }
        try await follower.waitFor("new-2")
        // Several reconciles (one every 100 ms) after the new rows: each reads only what is new, none of it.
        try await waitUntil("ten more reads") { reader.revocationFeedStatistics.reads >= start.reads + 10 }
        XCTAssertEqual(reader.revocationFeedStatistics.rowsRead - start.rowsRead, 3)
        await follower.stop()
        await writer.close()
        await reader.close()
    }

    func testFirstLoadReadsEveryRevocationInForceInPagesAndNoExpiredOne() async throws {
        let url = try await PostgresTestServer.freshDatabase(prefix: "f_")
        let store = try await open(url)
        let inForce = 2 * RevocationFeedPage.limit + 5
        let live = StoreTime.milliseconds(Date().addingTimeInterval(900))
        let ended = StoreTime.milliseconds(Date().addingTimeInterval(-60))
        try await PostgresTestServer.withConnection(url) { connection in
            // Expired rows between the live ones, so that every page boundary has some around it.
            try await connection.query(
                """
                INSERT INTO revoked_access_tokens (jti, expires_at)
                SELECT 'j-' || g, CASE WHEN g % 1000 = 0 THEN \(ended) ELSE \(live) END
                FROM generate_series(1, \(Int64(inForce + inForce / 999))) AS g
                """,
                logger: self.logger)
        }
        let follower = Follower(store)
        let expected = inForce + inForce / 999 - (inForce + inForce / 999) / 1000
        try await SessionStoreContract.waitUntil("the first load") {
            store.revocationFeedStatistics.rowsRead >= expected
        }
        let seen = follower.seen.withLockedValue { $0 }
        XCTAssertEqual(seen.count, expected)
        XCTAssertEqual(Set(seen).count, expected)
        XCTAssertFalse(seen.contains("j-1000"))
        XCTAssertGreaterThanOrEqual(store.revocationFeedStatistics.reads, 3)
        await follower.stop()
        await store.close()
    }

    func testPurgeKeepsRecentlyExpiredRevocationsForInstancesCatchingUp() async throws {
        let url = try await PostgresTestServer.freshDatabase(prefix: "f_")
        let store = try await open(url)
        let now = Date()
        try await store.recordRevokedAccessToken(jti: "just-expired", expiresAt: now.addingTimeInterval(-60))
        try await store.recordRevokedAccessToken(jti: "long-expired", expiresAt: now.addingTimeInterval(-7200))
        let purged = try await store.purgeExpired(now: now)
        XCTAssertEqual(purged, 1)
        var left: [String] = []
        try await PostgresTestServer.withConnection(url) { connection in
            for try await jti in try await connection.query(
                "SELECT jti FROM revoked_access_tokens", logger: self.logger
            ).decode(String.self) {
                left.append(jti)
            }
        }
        XCTAssertEqual(left, ["just-expired"])
        await store.close()
    }
}
