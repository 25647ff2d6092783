import Foundation
import NIOConcurrencyHelpers
import XCTest

@testable import SessionStore

/// What every `SessionStore` promises (the protocol's comments), written once and run against each store by a
/// subclass that says how to open it: `SQLiteSessionStoreContractTests`, `PostgresSessionStoreContractTests`.
/// Only what is truly one store's own (SQLite's file, WAL and pragmas; PostgreSQL's NOTIFY, advisory locks,
/// paging and sslmode) stays in that store's suites. A new store passes this suite before it is used.
///
/// The contract's checks are the `contract…` methods of the extensions (`+Sessions`, `+Revocations`). Each
/// subclass calls every one from a `test…` method of the same name: test discovery on Linux lists only methods
/// a class declares itself, not inherited ones. `SessionStoreContractCoverageTests` fails when a subclass leaves
/// one out, so the stores cannot drift apart.
class SessionStoreContract: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let day: TimeInterval = 86_400
    private let opened = NIOLockedValueBox<[any SessionStore]>([])

    /// How long an operation waits for a lock another connection holds before it fails.
    enum LockWait {
        /// Long enough for any contention among the test's own stores.
        case patient
        /// Short, for tests that hold a lock on purpose and expect a write to give up.
        case short
    }

    // MARK: - What each store's subclass provides

    /// Opens a store on this test's own data, empty at the first call. Each further call opens another store on
    /// the same data, as another process (SQLite) or gateway instance (PostgreSQL) would.
    func makeStore(lockWait: LockWait) async throws -> any SessionStore {
        throw XCTSkip("the store contract runs in each store's subclass")
    }

    /// Runs `body` while another connection holds the lock that every write to the sessions takes and plain
    /// reads do not (SQLite's write lock; PostgreSQL's EXCLUSIVE lock on `refresh_families`).
    func whileSessionWritesAreBlocked(_ body: () async throws -> Void) async throws {
        throw XCTSkip("the store contract runs in each store's subclass")
    }

    /// Asserts that `error` is how this store reports a write that waited in vain for a lock, and what `store`
    /// says of its availability right after (`isAvailable`, which `/auth/login` checks before it spends a code).
    func assertLockWaitFailure(
        _ error: any Error, of store: any SessionStore, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTFail("the store contract runs in each store's subclass", file: file, line: line)
    }

    // MARK: - Harness

    override func tearDown() async throws {
        for store in opened.withLockedValue({ $0 }) { await store.close() }
        try await super.tearDown()
    }

    /// A store from `makeStore`, closed at the end of the test if the test did not close it.
    func openStore(lockWait: LockWait = .patient) async throws -> any SessionStore {
        let store = try await makeStore(lockWait: lockWait)
        opened.withLockedValue { $0.append(store) }
        return store
    }

    func login(
        _ store: any SessionStore, token: String = "t0", openid: String = "openid-1", unionid: String? = "union-1",
        sessionKey: String = "key-1", at time: Date? = nil, lifetime: TimeInterval? = nil
    ) async throws -> SessionRecord {
        let time = time ?? now
        return try await store.createSession(
            openid: openid, unionid: unionid, appid: "wx1", sessionKey: sessionKey,
            refreshTokenHash: RefreshTokenHash.of(token),
            refreshExpiresAt: time.addingTimeInterval(lifetime ?? 30 * day), now: time)
    }

    func rotate(_ store: any SessionStore, _ old: String, _ new: String, at time: Date) async throws -> RotationOutcome
    {
        try await store.rotate(
            presentedHash: RefreshTokenHash.of(old), newHash: RefreshTokenHash.of(new),
            newExpiresAt: time.addingTimeInterval(30 * day), now: time)
    }

    /// Presents `token` `count` times at once, spread over `stores`; the successors are `<prefix>-<index>`.
    func rotateConcurrently(
        _ token: String, on stores: [any SessionStore], count: Int, successors prefix: String = "new"
    ) async throws -> [RotationOutcome] {
        let presented = RefreshTokenHash.of(token)
        let time = now.addingTimeInterval(60)
        return try await withThrowingTaskGroup(of: RotationOutcome.self) { group in
            for index in 0..<count {
                let store = stores[index % stores.count]
                group.addTask {
                    try await store.rotate(
                        presentedHash: presented, newHash: RefreshTokenHash.of("\(prefix)-\(index)"),
                        newExpiresAt: time.addingTimeInterval(86_400), now: time)
                }
            }
            return try await group.reduce(into: [RotationOutcome]()) { $0.append($1) }
        }
    }

    /// Follows a store's revocations into a list a test can wait on.
    final class Follower: Sendable {
        let seen = NIOLockedValueBox<[String]>([])
        private let task: Task<Void, Never>

        init(_ store: any SessionStore) {
            let seen = self.seen
            task = Task { await store.followRevocations { batch in seen.withLockedValue { $0 += batch.map(\.jti) } } }
        }

        var delivered: [String] { seen.withLockedValue { $0 } }

        func waitFor(_ jti: String) async throws {
            let seen = self.seen
            try await SessionStoreContract.waitUntil("\(jti) was delivered") {
                seen.withLockedValue { $0.contains(jti) }
            }
        }

        func stop() async {
            task.cancel()
            await task.value
        }
    }

    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    /// Waits for `condition` with a generous bound: a behaviour that never happens fails, a slow machine does not.
    static func waitUntil(_ what: String, _ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw Timeout(description: "timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
