import Foundation
import XCTest

@testable import SessionStore

/// The contract for ending sessions, revoked access tokens and the feed that carries them to every process,
/// expiry and purge, and a closed store, run by each store's subclass.
extension SessionStoreContract {
    // MARK: - Ending a session

    func contractRevokeByRefreshTokenHashEndsTheSession() async throws {
        let store = try await openStore()
        _ = try await login(store)
        _ = try await rotate(store, "t0", "t1", at: now.addingTimeInterval(10))
        let known = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of("t1"), now: now)
        XCTAssertTrue(known)
        let knownAgain = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of("t1"), now: now)
        XCTAssertTrue(knownAgain, "a token of an ended session is still known")
        let stranger = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of("zzz"), now: now)
        XCTAssertFalse(stranger)
        let outcome = try await rotate(store, "t1", "t2", at: now.addingTimeInterval(20))
        XCTAssertEqual(outcome, .revoked)
    }

    func contractRevokeFamilyIsIdempotent() async throws {
        let store = try await openStore()
        let created = try await login(store)
        let first = try await store.revokeFamily(familyID: created.familyID, now: now)
        let second = try await store.revokeFamily(familyID: created.familyID, now: now.addingTimeInterval(5))
        XCTAssertTrue(first)
        XCTAssertFalse(second)
        let family = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("t0"))
        XCTAssertEqual(family?.revokedAt, now, "the first revocation time is kept")
        let unknown = try await store.revokeFamily(familyID: "no-such-family", now: now)
        XCTAssertFalse(unknown)
    }

    /// Revoking an ended session again costs a read and no write (issue 22 item 10), proven by another connection
    /// blocking every write: a revoke that wrote, even an UPDATE that matches nothing, would wait and fail.
    func contractRevokingAnEndedSessionAgainWritesNothing() async throws {
        let store = try await openStore(lockWait: .short)
        let session = try await login(store, unionid: nil)
        let revoked = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of("t0"), now: now)
        XCTAssertTrue(revoked)

        try await whileSessionWritesAreBlocked {
            let again = try await store.revokeByRefreshTokenHash(
                RefreshTokenHash.of("t0"), now: now.addingTimeInterval(5))
            XCTAssertTrue(again, "the token is still known")
            let byFamily = try await store.revokeFamily(familyID: session.familyID, now: now.addingTimeInterval(5))
            XCTAssertFalse(byFamily, "nothing changed")
            let unknown = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of("never"), now: now)
            XCTAssertFalse(unknown)
        }
        let family = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("t0"))
        XCTAssertEqual(family?.revokedAt, now, "the first revocation time is kept")
    }

    /// The other side of the test above: the blocking really does stop a revoke that has something to write.
    func contractRevokingALiveSessionWaitsForTheWriteAndRevokes() async throws {
        let store = try await openStore(lockWait: .short)
        let session = try await login(store, unionid: nil)
        try await whileSessionWritesAreBlocked {
            do {
                _ = try await store.revokeFamily(familyID: session.familyID, now: now)
                XCTFail("a revoke that changes something must write")
            } catch {
                assertLockWaitFailure(error, of: store)
            }
        }
        let first = try await store.revokeFamily(familyID: session.familyID, now: now)
        XCTAssertTrue(store.isAvailable, "a store that answers again is available again")
        let second = try await store.revokeFamily(familyID: session.familyID, now: now.addingTimeInterval(1))
        XCTAssertTrue(first)
        XCTAssertFalse(second)
        let outcome = try await rotate(store, "t0", "t1", at: now.addingTimeInterval(2))
        XCTAssertEqual(outcome, .revoked)
    }

    // MARK: - Revoked access tokens

    func contractRevokedAccessTokensListsOnlyUnexpiredOnesWithTheLaterExpiry() async throws {
        let store = try await openStore()
        try await store.recordRevokedAccessToken(jti: "j", expiresAt: now.addingTimeInterval(900))
        try await store.recordRevokedAccessToken(jti: "j", expiresAt: now.addingTimeInterval(60))
        try await store.recordRevokedAccessToken(jti: "gone", expiresAt: now.addingTimeInterval(-1))
        let revoked = try await store.revokedAccessTokens(now: now)
        XCTAssertEqual(revoked.map(\.jti), ["j"])
        XCTAssertEqual(revoked.map(\.expiresAt), [now.addingTimeInterval(900)])
    }

    func contractRevokedAccessTokensSurviveRestart() async throws {
        let store = try await openStore()
        try await store.recordRevokedAccessToken(jti: "jti-live", expiresAt: now.addingTimeInterval(900))
        try await store.recordRevokedAccessToken(jti: "jti-gone", expiresAt: now.addingTimeInterval(-1))
        await store.close()

        let reopened = try await openStore()
        let revoked = try await reopened.revokedAccessTokens(now: now)
        XCTAssertEqual(revoked.map(\.jti), ["jti-live"])
        XCTAssertEqual(revoked.first?.expiresAt, now.addingTimeInterval(900))
    }

    func contractRevocationsRecordedByAnotherInstanceReachTheFollower() async throws {
        let writer = try await openStore()
        try await writer.recordRevokedAccessToken(jti: "before", expiresAt: Date().addingTimeInterval(900))
        let reader = try await openStore()
        let follower = Follower(reader)
        try await follower.waitFor("before")
        // Recorded after the follower's first full read: found past its high-water mark, once.
        try await writer.recordRevokedAccessToken(jti: "after", expiresAt: Date().addingTimeInterval(900))
        try await follower.waitFor("after")
        XCTAssertEqual(follower.delivered, ["before", "after"])
        await follower.stop()
    }

    func contractRevocationsRecordedWhileFollowingAreDeliveredExpiredOnesIncluded() async throws {
        let writer = try await openStore()
        let reader = try await openStore()
        let follower = Follower(reader)
        try await writer.recordRevokedAccessToken(jti: "first", expiresAt: Date().addingTimeInterval(900))
        try await follower.waitFor("first")
        // A session ended whose access tokens have all expired since (the reader was away that long): its row
        // still reaches the reader, whose tunnels for that session must close.
        try await writer.recordRevokedAccessToken(jti: "sid:ended", expiresAt: Date().addingTimeInterval(-60))
        try await follower.waitFor("sid:ended")
        await follower.stop()
    }

    func contractConcurrentWritersLeaveNoRevocationBehindTheFollowersMark() async throws {
        let writers = [try await openStore(), try await openStore()]
        let reader = try await openStore()
        let follower = Follower(reader)
        try await writers[0].recordRevokedAccessToken(jti: "start", expiresAt: Date().addingTimeInterval(900))
        try await follower.waitFor("start")
        // Many writers at once while the reader keeps moving its mark: were rows not numbered in commit order, a
        // row committed after a higher one had been read would be passed for good, and this would time out.
        let tasks = 40
        let each = 25
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                let writer = writers[task % 2]
                group.addTask {
                    for index in 0..<each {
                        try await writer.recordRevokedAccessToken(
                            jti: "w-\(task)-\(index)", expiresAt: Date().addingTimeInterval(900))
                    }
                }
            }
            try await group.waitForAll()
        }
        let seen = follower.seen
        try await Self.waitUntil("every row was delivered") {
            Set(seen.withLockedValue { $0 }).count == tasks * each + 1
        }
        await follower.stop()
    }

    // MARK: - Expiry, purge, a closed store

    func contractPurgeRemovesOnlyExpiredRows() async throws {
        let store = try await openStore()
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
    }

    func contractClosedStoreThrowsClosed() async throws {
        let store = try await openStore()
        try await store.ping()
        XCTAssertTrue(store.isAvailable)
        await store.close()
        do {
            try await store.ping()
            XCTFail("ping after close succeeded")
        } catch {
            XCTAssertEqual(error, .closed)
        }
        do {
            _ = try await login(store, token: "after-close")
            XCTFail("a closed store stored a session")
        } catch {
            XCTAssertEqual(error as? SessionStoreError, .closed)
        }
    }
}
