import Foundation
import Logging
import PostgresNIO
import XCTest

@testable import SessionStore

/// Issue 22 item 10 for the PostgreSQL store: revoking an ended session again costs one read. Proven by another
/// connection holding `refresh_families` in EXCLUSIVE mode, which lets reads through and blocks every UPDATE (even
/// one that matches nothing): a revoke that wrote would wait out `[store] timeout` and fail.
final class PostgresRevokeCostTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func location() throws -> StoreURL.PostgresLocation {
        guard let url = ProcessInfo.processInfo.environment["GATEWAY_TEST_POSTGRES_URL"] else {
            throw XCTSkip("GATEWAY_TEST_POSTGRES_URL is not set: run through `make test`")
        }
        guard case .postgres(let location) = try StoreURL(parsing: url) else {
            throw XCTSkip("GATEWAY_TEST_POSTGRES_URL is not a postgres url")
        }
        return location
    }

    private func login(_ store: PostgresSessionStore, token: String) async throws -> SessionRecord {
        try await store.createSession(
            openid: "openid-\(UUID())", unionid: nil, appid: "wx1", sessionKey: "key",
            refreshTokenHash: RefreshTokenHash.of(token), refreshExpiresAt: now.addingTimeInterval(86_400), now: now)
    }

    /// Runs `body` while another connection holds `refresh_families` in EXCLUSIVE mode.
    private func whileFamiliesAreLocked(_ body: () async throws -> Void) async throws {
        let settings = try PostgresSettings(try location(), options: SessionStoreOptions())
        let logger = Logger(label: "test")
        let locker = try await PostgresConnection.connect(
            configuration: try settings.connectionConfiguration(), id: 1, logger: logger)
        do {
            try await locker.query("BEGIN", logger: logger)
            try await locker.query("LOCK TABLE refresh_families IN EXCLUSIVE MODE", logger: logger)
            try await body()
        } catch {
            try? await locker.close()
            throw error
        }
        try await locker.close()
    }

    func testRevokingAnEndedSessionAgainIsOneReadAndNoWrite() async throws {
        let store = try await PostgresSessionStore.open(
            try location(), options: SessionStoreOptions(poolSize: 2, timeout: .seconds(1)), logger: Logger(label: "t"))
        let token = "revoke-cost-\(UUID())"
        let session = try await login(store, token: token)
        let revoked = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of(token), now: now)
        XCTAssertTrue(revoked)

        try await whileFamiliesAreLocked {
            let again = try await store.revokeByRefreshTokenHash(
                RefreshTokenHash.of(token), now: now.addingTimeInterval(5))
            XCTAssertTrue(again, "the token is still known")
            let byFamily = try await store.revokeFamily(familyID: session.familyID, now: now.addingTimeInterval(5))
            XCTAssertFalse(byFamily, "nothing changed")
            let unknown = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of("never-\(UUID())"), now: now)
            XCTAssertFalse(unknown)
        }
        let family = try await store.family(forRefreshTokenHash: RefreshTokenHash.of(token))
        XCTAssertEqual(family?.revokedAt, now, "the first revocation time is kept")
        await store.close()
    }

    func testRevokingALiveSessionWritesIt() async throws {
        let store = try await PostgresSessionStore.open(
            try location(), options: SessionStoreOptions(poolSize: 2, timeout: .seconds(1)), logger: Logger(label: "t"))
        let token = "revoke-live-\(UUID())"
        let session = try await login(store, token: token)
        try await whileFamiliesAreLocked {
            do {
                _ = try await store.revokeFamily(familyID: session.familyID, now: now)
                XCTFail("a revoke that changes something must write")
            } catch {}
        }
        let first = try await store.revokeFamily(familyID: session.familyID, now: now)
        let second = try await store.revokeFamily(familyID: session.familyID, now: now.addingTimeInterval(1))
        XCTAssertTrue(first)
        XCTAssertFalse(second)
        let outcome = try await store.rotate(
            presentedHash: RefreshTokenHash.of(token), newHash: RefreshTokenHash.of(token + "-next"),
            newExpiresAt: now.addingTimeInterval(60), now: now.addingTimeInterval(2))
        XCTAssertEqual(outcome, .revoked)
        await store.close()
    }
}
