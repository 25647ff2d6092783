import Foundation
import SessionStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The child process of `SQLiteSessionStoreCrashTests.testCommittedWritesSurviveKill9`, and nothing else: it commits
// one session and one revoked access token to the SQLite file named by its argument, then SIGKILLs itself with the
// store still open, as `kill -9` ends a running gateway. The test reopens the file and looks for both rows (the
// values below are the ones it checks).

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: SessionStoreCrashChild <sqlite file>\n".utf8))
    exit(64)
}
let now = Date(timeIntervalSince1970: 1_800_000_000)
let store = try SQLiteSessionStore(path: arguments[1])
_ = try await store.createSession(
    openid: "crash-openid", unionid: nil, appid: "wx1", sessionKey: "k",
    refreshTokenHash: RefreshTokenHash.of("crash-token"), refreshExpiresAt: now.addingTimeInterval(3600), now: now)
try await store.recordRevokedAccessToken(jti: "crash-jti", expiresAt: now.addingTimeInterval(900))
// No close, no exit handlers: exactly what kill -9 does to a running gateway.
kill(getpid(), SIGKILL)
