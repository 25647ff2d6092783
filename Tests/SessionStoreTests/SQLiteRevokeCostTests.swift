import Foundation
import XCTest

@testable import SessionStore

/// Issue 22 item 10: revoking an ended session again costs one read. Proven by holding SQLite's write lock from
/// another connection: a revoke that wrote (even an UPDATE that matches nothing takes the lock) would fail busy.
final class SQLiteRevokeCostTests: XCTestCase {
    private var directory: URL!
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("SQLiteRevokeCost-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testRevokingAnEndedSessionAgainTakesNoWriteLock() async throws {
        let path = directory.appendingPathComponent("gateway.db").path
        let store = try SQLiteSessionStore(path: path, options: .init(busyTimeout: .milliseconds(200)))
        let session = try await store.createSession(
            openid: "openid-1", unionid: nil, appid: "wx1", sessionKey: "key",
            refreshTokenHash: RefreshTokenHash.of("t0"),
            refreshExpiresAt: now.addingTimeInterval(86_400), now: now)
        let revoked = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of("t0"), now: now)
        XCTAssertTrue(revoked)

        // Another process is writing (a rotation, a login): it holds the write lock throughout.
        let writer = try SQLiteConnection(path: path)
        _ = try writer.run("BEGIN IMMEDIATE", [], operation: "test")
        defer { _ = try? writer.run("ROLLBACK", [], operation: "test") }

        let again = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of("t0"), now: now.addingTimeInterval(5))
        XCTAssertTrue(again, "the token is still known")
        let byFamily = try await store.revokeFamily(familyID: session.familyID, now: now.addingTimeInterval(5))
        XCTAssertFalse(byFamily, "nothing changed")
        let unknown = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of("never"), now: now)
        XCTAssertFalse(unknown)
        let family = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("t0"))
        XCTAssertEqual(family?.revokedAt, now, "the first revocation time is kept")
        await store.close()
    }

    func testRevokingALiveSessionStillWaitsForTheLockAndRevokes() async throws {
        let path = directory.appendingPathComponent("gateway.db").path
        let store = try SQLiteSessionStore(path: path, options: .init(busyTimeout: .milliseconds(200)))
        let session = try await store.createSession(
            openid: "openid-1", unionid: nil, appid: "wx1", sessionKey: "key",
            refreshTokenHash: RefreshTokenHash.of("t0"),
            refreshExpiresAt: now.addingTimeInterval(86_400), now: now)
        let writer = try SQLiteConnection(path: path)
        _ = try writer.run("BEGIN IMMEDIATE", [], operation: "test")
        do {
            _ = try await store.revokeFamily(familyID: session.familyID, now: now)
            XCTFail("a revoke that changes something must write")
        } catch {
            guard case .sqlite = error else { return XCTFail("\(error)") }
        }
        _ = try writer.run("ROLLBACK", [], operation: "test")
        let revoked = try await store.revokeFamily(familyID: session.familyID, now: now)
        XCTAssertTrue(revoked)
        await store.close()
    }
}
