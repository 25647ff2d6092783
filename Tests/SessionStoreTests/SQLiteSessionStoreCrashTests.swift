import Foundation
import SessionStore
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// "kill -9 loses no committed session": a child process (this same test binary, running only
/// `testChildWritesThenKillsItself`) commits, then SIGKILLs itself; the parent reopens the file.
final class SQLiteSessionStoreCrashTests: XCTestCase {
    private static let childDatabaseVariable = "SESSION_STORE_CRASH_CHILD_DB"
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    func testCommittedWritesSurviveKill9() async throws {
        #if os(Linux)
        let binary = URL(fileURLWithPath: CommandLine.arguments[0])
        guard binary.pathExtension == "xctest" else {
            throw XCTSkip("not running from an .xctest executable: \(binary.path)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("SessionStoreCrash-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("gateway.db").path

        let child = Process()
        child.executableURL = binary
        child.arguments = ["SessionStoreTests.SQLiteSessionStoreCrashTests/testChildWritesThenKillsItself"]
        child.environment = ProcessInfo.processInfo.environment.merging([Self.childDatabaseVariable: path]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .uncaughtSignal)
        XCTAssertEqual(child.terminationStatus, SIGKILL)

        let store = try SQLiteSessionStore(path: path)
        let family = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("crash-token"))
        XCTAssertEqual(family?.openid, "crash-openid")
        let revoked = try await store.revokedAccessTokens(now: now)
        XCTAssertEqual(revoked.map(\.jti), ["crash-jti"])
        await store.close()
        #else
        throw XCTSkip("the kill -9 test runs the Linux .xctest executable as its child")
        #endif
    }

    /// The child half; does nothing unless started by `testCommittedWritesSurviveKill9`.
    func testChildWritesThenKillsItself() async throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childDatabaseVariable] else {
            return
        }
        let store = try SQLiteSessionStore(path: path)
        _ = try await store.createSession(
            openid: "crash-openid", unionid: nil, appid: "wx1", sessionKey: "k",
            refreshTokenHash: RefreshTokenHash.of("crash-token"), refreshExpiresAt: now.addingTimeInterval(3600),
            now: now
        )
        try await store.recordRevokedAccessToken(jti: "crash-jti", expiresAt: now.addingTimeInterval(900))
        // No close, no exit handlers: exactly what kill -9 does to a running gateway.
        kill(getpid(), SIGKILL)
    }
}
