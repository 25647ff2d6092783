import Foundation
import SessionStore
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// "kill -9 loses no committed session": a child process (`SessionStoreCrashChild`, an executable of its own built
/// beside this test bundle) commits, then SIGKILLs itself; the parent reopens the file.
final class SQLiteSessionStoreCrashTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// The child's executable: SwiftPM builds every executable target into the directory of the test bundle.
    private var childExecutable: URL {
        #if os(Linux)
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("SessionStoreCrashChild")
        #else
        Bundle(for: Self.self).bundleURL.deletingLastPathComponent().appendingPathComponent("SessionStoreCrashChild")
        #endif
    }

    func testCommittedWritesSurviveKill9() async throws {
        guard FileManager.default.isExecutableFile(atPath: childExecutable.path) else {
            return XCTFail("\(childExecutable.path) is missing: build the package with `swift build --build-tests`")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("SessionStoreCrash-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("gateway.db").path

        let child = Process()
        child.executableURL = childExecutable
        child.arguments = [path]
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
    }
}
