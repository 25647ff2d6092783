import Foundation
import Logging
import XCTest

@testable import SessionStore

/// The store contract (`SessionStoreContract`) against PostgreSQL, on the server `make test` starts
/// (`PostgresTestServer`): each test has a database of its own, and each store opened on it is another
/// gateway instance of a fleet.
final class PostgresSessionStoreContractTests: SessionStoreContract {
    private var database: String?

    private func url() async throws -> String {
        if let database { return database }
        let created = try await PostgresTestServer.freshDatabase(prefix: "c_")
        database = created
        return created
    }

    override func makeStore(lockWait: LockWait) async throws -> any SessionStore {
        try await PostgresSessionStore.open(
            try PostgresTestServer.location(try await url()),
            options: SessionStoreOptions(poolSize: 4, timeout: lockWait == .short ? .seconds(1) : .seconds(5)),
            logger: Logger(label: "test"))
    }

    override func whileSessionWritesAreBlocked(_ body: () async throws -> Void) async throws {
        // EXCLUSIVE lets plain reads through and blocks every UPDATE, even one that matches no row.
        try await PostgresTestServer.withConnection(try await url()) { locker in
            let logger = Logger(label: "test")
            try await locker.query("BEGIN", logger: logger)
            try await locker.query("LOCK TABLE refresh_families IN EXCLUSIVE MODE", logger: logger)
            try await body()
        }
    }

    override func assertLockWaitFailure(
        _ error: any Error, of store: any SessionStore, file: StaticString = #filePath, line: UInt = #line
    ) {
        guard case .unavailable = error as? SessionStoreError else {
            return XCTFail("not a timeout answered as unavailable: \(error)", file: file, line: line)
        }
        // Login refuses from now on, before it spends a WeChat code, until an operation succeeds again.
        XCTAssertFalse(store.isAvailable, file: file, line: line)
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
