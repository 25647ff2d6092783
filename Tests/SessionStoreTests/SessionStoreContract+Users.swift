import Foundation
import XCTest

@testable import SessionStore

/// The contract for an operator's view of a user's sessions (`GET /sessions`, `POST /sessions/revoke`), run by each
/// store's subclass.
extension SessionStoreContract {
    private func loginUser(
        _ store: any SessionStore, token: String, openid: String, appid: String, at time: Date
    )
        async throws -> SessionRecord
    {
        try await store.createSession(
            openid: openid, unionid: nil, appid: appid, sessionKey: "key-\(token)",
            refreshTokenHash: RefreshTokenHash.of(token), refreshExpiresAt: time.addingTimeInterval(30 * day),
            now: time)
    }

    func contractActiveSessionsListsAUsersLiveFamiliesOnly() async throws {
        let store = try await openStore()
        let first = try await loginUser(store, token: "a0", openid: "u1", appid: "wx1", at: now)
        let second = try await loginUser(store, token: "b0", openid: "u1", appid: "wx2", at: now.addingTimeInterval(1))
        let ended = try await loginUser(store, token: "c0", openid: "u1", appid: "wx1", at: now.addingTimeInterval(2))
        _ = try await loginUser(store, token: "d0", openid: "u2", appid: "wx1", at: now)
        _ = try await store.createSession(
            openid: "u1", unionid: nil, appid: "wx1", sessionKey: "k", refreshTokenHash: RefreshTokenHash.of("e0"),
            refreshExpiresAt: now.addingTimeInterval(5), now: now)
        try await store.revokeFamily(familyID: ended.familyID, now: now.addingTimeInterval(3))
        let refreshedAt = now.addingTimeInterval(20)
        _ = try await rotate(store, "a0", "a1", at: refreshedAt)

        let listed = try await store.activeSessions(openid: "u1", appid: nil, now: now.addingTimeInterval(30))
        XCTAssertEqual(
            listed,
            [
                SessionSummary(
                    familyID: first.familyID, appid: "wx1", createdAt: now, lastRefreshedAt: refreshedAt,
                    expiresAt: first.expiresAt),
                SessionSummary(
                    familyID: second.familyID, appid: "wx2", createdAt: second.createdAt,
                    lastRefreshedAt: second.createdAt, expiresAt: second.expiresAt),
            ], "live families of u1, oldest first: not the revoked one, the expired one or another user's")
        let ofOneApp = try await store.activeSessions(openid: "u1", appid: "wx2", now: now.addingTimeInterval(30))
        XCTAssertEqual(ofOneApp.map(\.familyID), [second.familyID])
        let nobody = try await store.activeSessions(openid: "u3", appid: nil, now: now)
        XCTAssertEqual(nobody, [])
    }

    func contractRevokeSessionsEndsEveryLiveSessionOfTheUser() async throws {
        let store = try await openStore()
        let first = try await loginUser(store, token: "a0", openid: "u1", appid: "wx1", at: now)
        let second = try await loginUser(store, token: "b0", openid: "u1", appid: "wx2", at: now)
        let third = try await loginUser(store, token: "c0", openid: "u1", appid: "wx1", at: now)
        let other = try await loginUser(store, token: "d0", openid: "u2", appid: "wx1", at: now)
        try await store.revokeFamily(familyID: third.familyID, now: now)

        let ofOneApp = try await store.revokeSessions(openid: "u1", appid: "wx2", now: now.addingTimeInterval(1))
        XCTAssertEqual(ofOneApp, [second.familyID])
        let rest = try await store.revokeSessions(openid: "u1", appid: nil, now: now.addingTimeInterval(2))
        XCTAssertEqual(rest, [first.familyID], "a session ended before is not counted again")
        let again = try await store.revokeSessions(openid: "u1", appid: nil, now: now.addingTimeInterval(3))
        XCTAssertEqual(again, [])

        let refused = try await rotate(store, "a0", "a1", at: now.addingTimeInterval(4))
        XCTAssertEqual(refused, .revoked)
        let family = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("a0"))
        XCTAssertEqual(family?.revokedAt, now.addingTimeInterval(2))
        let untouched = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("d0"))
        XCTAssertNil(untouched?.revokedAt, "another user's session lives on")
        XCTAssertEqual(untouched?.familyID, other.familyID)
    }
}
