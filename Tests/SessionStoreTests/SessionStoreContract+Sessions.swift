import Foundation
import XCTest

@testable import SessionStore

/// The contract for sessions and refresh rotation (RFC 9700 section 4.14.2), run by each store's subclass.
extension SessionStoreContract {
    func contractCreatedSessionIsFoundByItsRefreshToken() async throws {
        let store = try await openStore()
        let created = try await login(store)
        XCTAssertEqual(created.openid, "openid-1")
        XCTAssertEqual(created.unionid, "union-1")
        XCTAssertEqual(created.appid, "wx1")
        XCTAssertEqual(created.createdAt, now)
        XCTAssertEqual(created.expiresAt, now.addingTimeInterval(30 * day))
        XCTAssertNil(created.revokedAt)
        XCTAssertEqual(created.familyID.count, 32)
        let found = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("t0"))
        XCTAssertEqual(found, created)
        let missing = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("nope"))
        XCTAssertNil(missing)
        let key = try await store.sessionKey(appid: "wx1", openid: "openid-1")
        XCTAssertEqual(key, "key-1")
    }

    func contractRotationSpendsTheOldTokenAndAcceptsTheNewOne() async throws {
        let store = try await openStore()
        let created = try await login(store)
        let first = try await rotate(store, "t0", "t1", at: now.addingTimeInterval(60))
        XCTAssertEqual(first, .rotated(created))
        let second = try await rotate(store, "t1", "t2", at: now.addingTimeInterval(120))
        XCTAssertEqual(second, .rotated(created))
        let family = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("t2"))
        XCTAssertEqual(family, created, "the successor belongs to the same family")
    }

    func contractSpentRefreshTokenRevokesFamily() async throws {
        let store = try await openStore()
        let created = try await login(store)
        _ = try await rotate(store, "t0", "t1", at: now.addingTimeInterval(60))

        let replay = try await rotate(store, "t0", "t-thief", at: now.addingTimeInterval(90))
        XCTAssertEqual(replay, .reused(familyID: created.familyID))
        let family = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("t1"))
        XCTAssertEqual(family?.revokedAt, now.addingTimeInterval(90))
        // The legitimate successor handed out before the replay is refused as well: the family is over.
        let successor = try await rotate(store, "t1", "t2", at: now.addingTimeInterval(120))
        XCTAssertEqual(successor, .revoked)
        // The thief's would-be token was never stored.
        let thief = try await rotate(store, "t-thief", "t3", at: now.addingTimeInterval(130))
        XCTAssertEqual(thief, .unknown)
    }

    func contractExpiredTokenIsRefused() async throws {
        let store = try await openStore()
        _ = try await login(store, lifetime: day)
        let atExpiry = try await rotate(store, "t0", "t1", at: now.addingTimeInterval(day))
        XCTAssertEqual(atExpiry, .expired)
        _ = try await login(store, token: "short", openid: "openid-2", lifetime: 60)
        let after = try await rotate(store, "short", "t2", at: now.addingTimeInterval(61))
        XCTAssertEqual(after, .expired)
    }

    func contractRotationNeverExtendsTheFamily() async throws {
        let store = try await openStore()
        _ = try await login(store, lifetime: day)
        _ = try await rotate(store, "t0", "t1", at: now.addingTimeInterval(day - 10))
        // t1 was requested for 30 days but the family ends after one.
        let outcome = try await rotate(store, "t1", "t2", at: now.addingTimeInterval(day + 1))
        XCTAssertEqual(outcome, .expired)
    }

    func contractUnknownTokenIsUnknown() async throws {
        let store = try await openStore()
        let outcome = try await rotate(store, "never-issued", "t1", at: now)
        XCTAssertEqual(outcome, .unknown)
    }

    func contractConcurrentRotationsOfOneTokenHaveExactlyOneWinner() async throws {
        let store = try await openStore()
        let created = try await login(store)
        let outcomes = try await rotateConcurrently("t0", on: [store], count: 8)
        XCTAssertEqual(outcomes.filter { $0 == .rotated(created) }.count, 1, "\(outcomes)")
        XCTAssertEqual(outcomes.filter { $0 == .reused(familyID: created.familyID) }.count, 7, "\(outcomes)")
        // Documented consequence: the losers' replay revoked the family, so the winner's token is refused too.
        var successors: [RotationOutcome] = []
        for index in 0..<8 {
            successors.append(try await rotate(store, "new-\(index)", "later", at: now.addingTimeInterval(60)))
        }
        XCTAssertEqual(successors.filter { $0 == .revoked }.count, 1, "\(successors)")
        XCTAssertEqual(successors.filter { $0 == .unknown }.count, 7, "\(successors)")
    }

    func contractConcurrentRotationsAcrossInstancesHaveExactlyOneWinner() async throws {
        // Separate stores on the same data stand in for several gateway processes or instances: only the
        // database's own locking can make this atomic.
        var stores: [any SessionStore] = []
        for _ in 0..<4 { stores.append(try await openStore()) }
        for round in 0..<5 {
            let token = "race-\(round)"
            let created = try await login(stores[round % stores.count], token: token, openid: "openid-\(round)")
            let outcomes = try await rotateConcurrently(token, on: stores, count: 10, successors: "new-\(round)")
            XCTAssertEqual(outcomes.filter { $0 == .rotated(created) }.count, 1, "\(outcomes)")
            XCTAssertEqual(outcomes.filter { $0 == .reused(familyID: created.familyID) }.count, 9, "\(outcomes)")
        }
    }

    func contractSessionsSurviveRestart() async throws {
        let store = try await openStore()
        let created = try await login(store)
        _ = try await rotate(store, "t0", "t1", at: now.addingTimeInterval(60))
        await store.close()

        let reopened = try await openStore()
        let found = try await reopened.family(forRefreshTokenHash: RefreshTokenHash.of("t1"))
        XCTAssertEqual(found, created)
        let spent = try await rotate(reopened, "t0", "t2", at: now.addingTimeInterval(120))
        XCTAssertEqual(spent, .reused(familyID: created.familyID), "the spent token stayed spent")
    }

    func contractNewestSessionKeyWinsPerUser() async throws {
        let store = try await openStore()
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
    }

    func contractARenewedKeyReplacesOnlyTheKeyItRenewed() async throws {
        let store = try await openStore()
        _ = try await login(store, token: "a", sessionKey: "web-1", at: now)
        let renewed = try await store.replaceSessionKey(
            appid: "wx1", openid: "openid-1", current: "web-1", replacement: "web-1-renewed", now: now)
        XCTAssertTrue(renewed)
        let afterRenewal = try await store.sessionKey(appid: "wx1", openid: "openid-1")
        XCTAssertEqual(afterRenewal, "web-1-renewed")
        // A newer login stored its key meanwhile: a renewal of the older one must not overwrite it.
        _ = try await login(store, token: "b", sessionKey: "web-2", at: now.addingTimeInterval(60))
        let stale = try await store.replaceSessionKey(
            appid: "wx1", openid: "openid-1", current: "web-1-renewed", replacement: "web-1-again", now: now)
        XCTAssertFalse(stale)
        let afterStale = try await store.sessionKey(appid: "wx1", openid: "openid-1")
        XCTAssertEqual(afterStale, "web-2")
        let unknown = try await store.replaceSessionKey(
            appid: "wx1", openid: "nobody", current: "web-2", replacement: "x", now: now)
        XCTAssertFalse(unknown)
    }

    func contractValuesAreBoundNotSpliced() async throws {
        let store = try await openStore()
        let hostile = "x'); DROP TABLE refresh_tokens; --"
        _ = try await login(store, token: "t0", openid: hostile, sessionKey: "k'\"")
        let key = try await store.sessionKey(appid: "wx1", openid: hostile)
        XCTAssertEqual(key, "k'\"")
        let found = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("t0"))
        XCTAssertEqual(found?.openid, hostile)
    }

    func contractErrorsDoNotContainTokenHashesOrKeys() async throws {
        let store = try await openStore()
        _ = try await login(store, token: "dup")
        do {
            _ = try await login(store, token: "dup")  // the same hash twice violates the primary key
            XCTFail("duplicate token hash accepted")
        } catch {
            XCTAssertFalse("\(error)".contains(RefreshTokenHash.of("dup")), "\(error)")
            XCTAssertFalse("\(error)".contains("key-1"), "\(error)")
        }
    }
}
