import XCTest

@testable import GatewayCore

final class UpstreamSelectionTests: XCTestCase {
    private let second: UInt64 = 1_000_000_000

    func testPickRotatesRoundRobin() {
        var selection = UpstreamSelection(count: 3)

        let picks = (0..<7).map { _ in selection.pick(now: 0) }

        XCTAssertEqual(picks, [0, 1, 2, 0, 1, 2, 0])
    }

    func testSingleUpstreamIsAlwaysPicked() {
        var selection = UpstreamSelection(count: 1)

        XCTAssertEqual(selection.pick(now: 0), 0)
        XCTAssertEqual(selection.pick(now: 1), 0)
    }

    func testRefusingUpstreamIsSkippedForEjectionTime() {
        var selection = UpstreamSelection(count: 3, ejectionNanoseconds: 10 * second)
        selection.recordConnectFailure(1, now: 100 * second)

        let picks = (0..<4).map { _ in selection.pick(now: 105 * second) }

        XCTAssertEqual(picks, [0, 2, 0, 2])
        XCTAssertTrue(selection.isEjected(1, now: 105 * second))
    }

    func testEjectedUpstreamReturnsAfterEjectionTime() {
        var selection = UpstreamSelection(count: 2, ejectionNanoseconds: 10 * second)
        selection.recordConnectFailure(1, now: 100 * second)

        XCTAssertTrue(selection.isEjected(1, now: 110 * second - 1))
        XCTAssertFalse(selection.isEjected(1, now: 110 * second))
        let picks = (0..<2).map { _ in selection.pick(now: 110 * second) }

        XCTAssertEqual(Set(picks.compactMap { $0 }), [0, 1])
    }

    func testAllEjectedFailsOpenToTheOneReturningFirst() {
        var selection = UpstreamSelection(count: 3, ejectionNanoseconds: 10 * second)
        selection.recordConnectFailure(0, now: 3 * second)
        selection.recordConnectFailure(1, now: 1 * second)
        selection.recordConnectFailure(2, now: 2 * second)

        XCTAssertEqual(selection.pick(now: 5 * second), 1)
    }

    func testExcludingSkipsTheUpstreamARetryFailedOn() {
        var selection = UpstreamSelection(count: 3)

        XCTAssertEqual(selection.pick(now: 0, excluding: 0), 1)
        XCTAssertEqual(selection.pick(now: 0, excluding: 2), 0)
    }

    func testExcludingOnlyUpstreamLeavesNothing() {
        var selection = UpstreamSelection(count: 1)

        XCTAssertNil(selection.pick(now: 0, excluding: 0))
    }

    func testExcludingWithEveryOtherEjectedFailsOpenToAnother() {
        var selection = UpstreamSelection(count: 2, ejectionNanoseconds: 10 * second)
        selection.recordConnectFailure(1, now: 0)

        XCTAssertEqual(selection.pick(now: 1, excluding: 0), 1)
    }

    func testSuccessReadmitsEjectedUpstreamAtOnce() {
        var selection = UpstreamSelection(count: 2, ejectionNanoseconds: 10 * second)
        selection.recordConnectFailure(1, now: 0)

        selection.recordSuccess(1)

        XCTAssertFalse(selection.isEjected(1, now: 1))
        let picks = (0..<2).map { _ in selection.pick(now: 1) }
        XCTAssertEqual(Set(picks.compactMap { $0 }), [0, 1])
    }
}
