import Foundation
import XCTest

@testable import SessionStore

/// The store contract (`SessionStoreContract`) against SQLite: each test has a file of its own in a fresh
/// directory, and each store opened on it is another connection, as another gateway process would have.
final class SQLiteSessionStoreContractTests: SessionStoreContract {
    private var directory: URL?

    private var path: String {
        get throws {
            if let directory { return directory.appendingPathComponent("gateway.db").path }
            let created = FileManager.default.temporaryDirectory.appendingPathComponent(
                "SessionStoreContract-\(UUID())")
            try FileManager.default.createDirectory(at: created, withIntermediateDirectories: true)
            directory = created
            return created.appendingPathComponent("gateway.db").path
        }
    }

    override func tearDown() async throws {
        try await super.tearDown()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    override func makeStore(lockWait: LockWait) async throws -> any SessionStore {
        try SQLiteSessionStore(
            path: try path,
            options: SessionStoreOptions(
                sqlitePollInterval: .milliseconds(20),
                sqliteBusyTimeout: lockWait == .short ? .milliseconds(200) : .seconds(5)))
    }

    override func whileSessionWritesAreBlocked(_ body: () async throws -> Void) async throws {
        // Another process writing (a rotation, a login) holds SQLite's write lock throughout.
        let writer = try SQLiteConnection(path: try path)
        defer { writer.close() }
        _ = try writer.run("BEGIN IMMEDIATE", [], operation: "test")
        defer { _ = try? writer.run("ROLLBACK", [], operation: "test") }
        try await body()
    }

    override func assertLockWaitFailure(
        _ error: any Error, of store: any SessionStore, file: StaticString = #filePath, line: UInt = #line
    ) {
        guard case .sqlite = error as? SessionStoreError else {
            return XCTFail("not SQLite's busy error: \(error)", file: file, line: line)
        }
        // A busy file is not an outage: the embedded store is there as long as the process is.
        XCTAssertTrue(store.isAvailable, file: file, line: line)
    }

    // MARK: - The contract, every check of it (SessionStoreContractCoverageTests)

    func testCreatedSessionIsFoundByItsRefreshToken() async throws {
        try await contractCreatedSessionIsFoundByItsRefreshToken()
    }

    func testRotationSpendsTheOldTokenAndAcceptsTheNewOne() async throws {
        try await contractRotationSpendsTheOldTokenAndAcceptsTheNewOne()
    }

    func testSpentRefreshTokenRevokesFamily() async throws {
        try await contractSpentRefreshTokenRevokesFamily()
    }

    func testExpiredTokenIsRefused() async throws {
        try await contractExpiredTokenIsRefused()
    }

    func testRotationNeverExtendsTheFamily() async throws {
        try await contractRotationNeverExtendsTheFamily()
    }

    func testUnknownTokenIsUnknown() async throws {
        try await contractUnknownTokenIsUnknown()
    }

    func testConcurrentRotationsOfOneTokenHaveExactlyOneWinner() async throws {
        try await contractConcurrentRotationsOfOneTokenHaveExactlyOneWinner()
    }

    func testConcurrentRotationsAcrossInstancesHaveExactlyOneWinner() async throws {
        try await contractConcurrentRotationsAcrossInstancesHaveExactlyOneWinner()
    }

    func testSessionsSurviveRestart() async throws {
        try await contractSessionsSurviveRestart()
    }

    func testNewestSessionKeyWinsPerUser() async throws {
        try await contractNewestSessionKeyWinsPerUser()
    }

    func testARenewedKeyReplacesOnlyTheKeyItRenewed() async throws {
        try await contractARenewedKeyReplacesOnlyTheKeyItRenewed()
    }

    func testValuesAreBoundNotSpliced() async throws {
        try await contractValuesAreBoundNotSpliced()
    }

    func testErrorsDoNotContainTokenHashesOrKeys() async throws {
        try await contractErrorsDoNotContainTokenHashesOrKeys()
    }

    func testRevokeByRefreshTokenHashEndsTheSession() async throws {
        try await contractRevokeByRefreshTokenHashEndsTheSession()
    }

    func testRevokeFamilyIsIdempotent() async throws {
        try await contractRevokeFamilyIsIdempotent()
    }

    func testRevokingAnEndedSessionAgainWritesNothing() async throws {
        try await contractRevokingAnEndedSessionAgainWritesNothing()
    }

    func testRevokingALiveSessionWaitsForTheWriteAndRevokes() async throws {
        try await contractRevokingALiveSessionWaitsForTheWriteAndRevokes()
    }

    func testRevokedAccessTokensListsOnlyUnexpiredOnesWithTheLaterExpiry() async throws {
        try await contractRevokedAccessTokensListsOnlyUnexpiredOnesWithTheLaterExpiry()
    }

    func testRevokedAccessTokensSurviveRestart() async throws {
        try await contractRevokedAccessTokensSurviveRestart()
    }

    func testRevocationsRecordedByAnotherInstanceReachTheFollower() async throws {
        try await contractRevocationsRecordedByAnotherInstanceReachTheFollower()
    }

    func testRevocationsRecordedWhileFollowingAreDeliveredExpiredOnesIncluded() async throws {
        try await contractRevocationsRecordedWhileFollowingAreDeliveredExpiredOnesIncluded()
    }

    func testConcurrentWritersLeaveNoRevocationBehindTheFollowersMark() async throws {
        try await contractConcurrentWritersLeaveNoRevocationBehindTheFollowersMark()
    }

    func testPurgeRemovesOnlyExpiredRows() async throws {
        try await contractPurgeRemovesOnlyExpiredRows()
    }

    func testClosedStoreThrowsClosed() async throws {
        try await contractClosedStoreThrowsClosed()
    }

    func testActiveSessionsListsAUsersLiveFamiliesOnly() async throws {
        try await contractActiveSessionsListsAUsersLiveFamiliesOnly()
    }

    func testRevokeSessionsEndsEveryLiveSessionOfTheUser() async throws {
        try await contractRevokeSessionsEndsEveryLiveSessionOfTheUser()
    }
}
