import Foundation
import Logging
import PostgresNIO
import XCTest

@testable import SessionStore

/// The PostgreSQL store against a real server. `make test` starts one (Tests/integration/postgres_server.py)
/// and names a database in GATEWAY_TEST_POSTGRES_URL; each test that needs an empty schema creates its
/// own database, the others use unique tokens in the shared one.
final class PostgresSessionStoreTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)
    private let day: TimeInterval = 86_400

    private func baseURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["GATEWAY_TEST_POSTGRES_URL"] else {
            throw XCTSkip("GATEWAY_TEST_POSTGRES_URL is not set: run through `make test`")
        }
        return url
    }

    private func location(_ url: String) throws -> StoreURL.PostgresLocation {
        guard case .postgres(let location) = try StoreURL(parsing: url) else {
            throw XCTSkip("GATEWAY_TEST_POSTGRES_URL is not a postgres url")
        }
        return location
    }

    private func open(_ url: String? = nil, timeout: Duration = .seconds(5)) async throws -> PostgresSessionStore {
        try await PostgresSessionStore.open(
            try location(url ?? baseURL()), options: SessionStoreOptions(poolSize: 4, timeout: timeout),
            logger: Logger(label: "test"))
    }

    /// A new, empty database on the same server; returns its URL.
    private func freshDatabase() async throws -> String {
        let base = try baseURL()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try await withConnection(base) { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(name)\""), logger: Logger(label: "test"))
        }
        let end = base.firstIndex(of: "?") ?? base.endIndex
        let slash = base[..<end].lastIndex(of: "/")!
        return String(base[...slash]) + name + String(base[end...])
    }

    private func withConnection(_ url: String, _ body: (PostgresConnection) async throws -> Void) async throws {
        let settings = try PostgresSettings(try location(url), options: SessionStoreOptions())
        let connection = try await PostgresConnection.connect(
            configuration: try settings.connectionConfiguration(), id: 1, logger: Logger(label: "test"))
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    private func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString)" }

    private func login(
        _ store: PostgresSessionStore, token: String, openid: String? = nil, sessionKey: String = "key-1",
        at time: Date? = nil, lifetime: TimeInterval? = nil
    ) async throws -> SessionRecord {
        let time = time ?? now
        return try await store.createSession(
            openid: openid ?? unique("openid"), unionid: "union-1", appid: "wx1", sessionKey: sessionKey,
            refreshTokenHash: RefreshTokenHash.of(token),
            refreshExpiresAt: time.addingTimeInterval(lifetime ?? 30 * day),
            now: time)
    }

    private func rotate(
        _ store: PostgresSessionStore, _ old: String, _ new: String, at time: Date
    ) async throws
        -> RotationOutcome
    {
        try await store.rotate(
            presentedHash: RefreshTokenHash.of(old), newHash: RefreshTokenHash.of(new),
            newExpiresAt: time.addingTimeInterval(30 * day), now: time)
    }

    func testCreatedSessionIsFoundAndRotationSpendsTheToken() async throws {
        let store = try await open()
        let first = unique("t")
        let created = try await login(store, token: first)
        let found = try await store.family(forRefreshTokenHash: RefreshTokenHash.of(first))
        XCTAssertEqual(found, created)
        let second = unique("t")
        let outcome = try await rotate(store, first, second, at: now.addingTimeInterval(60))
        XCTAssertEqual(outcome, .rotated(created))
        let key = try await store.sessionKey(appid: "wx1", openid: created.openid)
        XCTAssertEqual(key, "key-1")
        let third = try await rotate(store, second, unique("t"), at: now.addingTimeInterval(120))
        XCTAssertEqual(third, .rotated(created))
        await store.close()
    }

    func testSpentRefreshTokenRevokesFamily() async throws {
        let store = try await open()
        let first = unique("t")
        let second = unique("t")
        let created = try await login(store, token: first)
        _ = try await rotate(store, first, second, at: now)
        let replay = try await rotate(store, first, unique("t"), at: now.addingTimeInterval(1))
        XCTAssertEqual(replay, .reused(familyID: created.familyID))
        // The successor handed out before the replay is refused too: the whole family is gone.
        let successor = try await rotate(store, second, unique("t"), at: now.addingTimeInterval(2))
        XCTAssertEqual(successor, .revoked)
        await store.close()
    }

    func testExpiredUnknownAndRevokedTokensAreRefused() async throws {
        let store = try await open()
        let short = unique("t")
        _ = try await login(store, token: short, lifetime: 60)
        let expired = try await rotate(store, short, unique("t"), at: now.addingTimeInterval(61))
        XCTAssertEqual(expired, .expired)
        let unknown = try await rotate(store, unique("never-issued"), unique("t"), at: now)
        XCTAssertEqual(unknown, .unknown)
        let revokedToken = unique("t")
        _ = try await login(store, token: revokedToken)
        let known = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of(revokedToken), now: now)
        XCTAssertTrue(known)
        let knownAgain = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of(revokedToken), now: now)
        XCTAssertTrue(knownAgain)
        let stranger = try await store.revokeByRefreshTokenHash(RefreshTokenHash.of(unique("x")), now: now)
        XCTAssertFalse(stranger)
        let revoked = try await rotate(store, revokedToken, unique("t"), at: now)
        XCTAssertEqual(revoked, .revoked)
        await store.close()
    }

    func testConcurrentRotationsOnTwoInstancesHaveExactlyOneWinner() async throws {
        let a = try await open()
        let b = try await open()
        for round in 0..<5 {
            let token = unique("race\(round)")
            _ = try await login(a, token: token)
            let at = now
            let outcomes = try await withThrowingTaskGroup(of: RotationOutcome.self) { group in
                for index in 0..<10 {
                    let store = index.isMultiple(of: 2) ? a : b
                    group.addTask {
                        try await store.rotate(
                            presentedHash: RefreshTokenHash.of(token), newHash: RefreshTokenHash.of(UUID().uuidString),
                            newExpiresAt: at.addingTimeInterval(86_400), now: at)
                    }
                }
                return try await group.reduce(into: [RotationOutcome]()) { $0.append($1) }
            }
            let winners = outcomes.filter { if case .rotated = $0 { return true } else { return false } }
            let thefts = outcomes.filter { if case .reused = $0 { return true } else { return false } }
            XCTAssertEqual(winners.count, 1, "\(outcomes)")
            XCTAssertEqual(thefts.count, 9, "\(outcomes)")
        }
        await a.close()
        await b.close()
    }

    func testRevocationReachesAnotherInstanceThroughNotify() async throws {
        let a = try await open()
        let b = try await open()
        let received = AsyncStream<RevokedAccessToken>.makeStream()
        let follower = Task {
            await b.followRevocations { batch in
                for revocation in batch { received.continuation.yield(revocation) }
            }
        }
        // Wait until B listens: a revocation recorded first arrives through the initial reload, one recorded
        // after through NOTIFY; both must arrive.
        let before = unique("jti-before")
        try await a.recordRevokedAccessToken(jti: before, expiresAt: Date().addingTimeInterval(900))
        var iterator = received.stream.makeAsyncIterator()
        var seen: Set<String> = []
        while !seen.contains(before), let next = await iterator.next() { seen.insert(next.jti) }
        let after = unique("jti-after")
        try await a.recordRevokedAccessToken(jti: after, expiresAt: Date().addingTimeInterval(900))
        while !seen.contains(after), let next = await iterator.next() { seen.insert(next.jti) }
        XCTAssertTrue(seen.isSuperset(of: [before, after]))
        follower.cancel()
        await follower.value
        await a.close()
        await b.close()
    }

    func testRevokingAnAccessTokenTwiceKeepsTheLaterExpiry() async throws {
        let store = try await open(try await freshDatabase())
        try await store.recordRevokedAccessToken(jti: "j", expiresAt: now.addingTimeInterval(900))
        try await store.recordRevokedAccessToken(jti: "j", expiresAt: now.addingTimeInterval(60))
        try await store.recordRevokedAccessToken(jti: "gone", expiresAt: now.addingTimeInterval(-1))
        let revoked = try await store.revokedAccessTokens(now: now)
        XCTAssertEqual(revoked.map(\.jti), ["j"])
        XCTAssertEqual(revoked.map(\.expiresAt), [now.addingTimeInterval(900)])
        await store.close()
    }

    func testPurgeRemovesOnlyExpiredRowsAndOneJanitorAtATime() async throws {
        let url = try await freshDatabase()
        let store = try await open(url)
        _ = try await login(store, token: "short", openid: "a", lifetime: day)
        let long = try await login(store, token: "long", openid: "b", lifetime: 30 * day)
        try await store.recordRevokedAccessToken(jti: "old", expiresAt: now.addingTimeInterval(60))
        try await store.recordRevokedAccessToken(jti: "new", expiresAt: now.addingTimeInterval(3 * day))

        // Another instance holding the janitor's lock: this one skips its turn.
        try await withConnection(url) { other in
            try await other.withTransaction(logger: Logger(label: "test")) { connection in
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(\(PostgresMigrations.LockKey.purge))", logger: Logger(label: "test"))
                let skipped = try await store.purgeExpired(now: self.now.addingTimeInterval(2 * self.day))
                XCTAssertEqual(skipped, 0)
            }
        }
        let purged = try await store.purgeExpired(now: now.addingTimeInterval(2 * day))
        XCTAssertEqual(purged, 3)  // the short family, its token, the old revocation
        let short = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("short"))
        XCTAssertNil(short)
        let kept = try await store.family(forRefreshTokenHash: RefreshTokenHash.of("long"))
        XCTAssertEqual(kept, long)
        let revoked = try await store.revokedAccessTokens(now: now)
        XCTAssertEqual(revoked.map(\.jti), ["new"])
        await store.close()
    }

    func testMigrationsRunOnceEvenWhenInstancesOpenAtOnce() async throws {
        let url = try await freshDatabase()
        let location = try location(url)
        let applied = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let store = try await PostgresSessionStore.open(
                        location, options: SessionStoreOptions(poolSize: 2), logger: Logger(label: "test"))
                    await store.close()
                    return store.migrationsApplied
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        XCTAssertEqual(applied.sorted(), [0, 0, 0, PostgresMigrations.all.count])
    }

    func testNewerSchemaIsRefused() async throws {
        let url = try await freshDatabase()
        try await withConnection(url) { connection in
            let logger = Logger(label: "test")
            try await connection.query("CREATE TABLE gateway_schema (version INTEGER NOT NULL)", logger: logger)
            try await connection.query("INSERT INTO gateway_schema VALUES (99)", logger: logger)
        }
        do {
            _ = try await open(url)
            XCTFail("opened a schema from the future")
        } catch {
            XCTAssertEqual(
                error as? SessionStoreError, .schemaTooNew(found: 99, supported: PostgresMigrations.all.count))
        }
    }

    func testValuesAreBoundNotSpliced() async throws {
        let store = try await open()
        let hostile = "x'); DROP TABLE refresh_tokens; --" + UUID().uuidString
        let token = unique("t")
        _ = try await login(store, token: token, openid: hostile, sessionKey: "k'\"")
        let key = try await store.sessionKey(appid: "wx1", openid: hostile)
        XCTAssertEqual(key, "k'\"")
        let found = try await store.family(forRefreshTokenHash: RefreshTokenHash.of(token))
        XCTAssertEqual(found?.openid, hostile)
        await store.close()
    }

    func testNewestSessionKeyWinsPerUser() async throws {
        let store = try await open()
        let openid = unique("user")
        _ = try await login(store, token: unique("a"), openid: openid, sessionKey: "key-old", at: now)
        _ = try await login(
            store, token: unique("b"), openid: openid, sessionKey: "key-new", at: now.addingTimeInterval(60))
        _ = try await login(
            store, token: unique("c"), openid: openid, sessionKey: "key-stale", at: now.addingTimeInterval(30))
        let key = try await store.sessionKey(appid: "wx1", openid: openid)
        XCTAssertEqual(key, "key-new")
        await store.close()
    }

    func testClosedStoreThrowsClosed() async throws {
        let store = try await open()
        await store.close()
        do {
            try await store.ping()
            XCTFail("a closed store answered")
        } catch {
            XCTAssertEqual(error, .closed)
        }
    }
}
