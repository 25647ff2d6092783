import XCTest

@testable import Engine

/// `[websocket] max_buffered` over all workers (issue 23): one count for every worker's tunnels, and the workers
/// refused a read woken once room returns.
final class EngineTunnelBudgetTests: XCTestCase {
    private let limit = 100

    func testBytesHeldByAnyWorkerCountAgainstTheOneLimit() {
        let budget = EngineTunnelBudget()
        XCTAssertTrue(budget.hasRoom(limit: limit))
        _ = budget.change(by: 60, limit: limit)  // a tunnel of worker 0
        XCTAssertTrue(budget.hasRoom(limit: limit))
        _ = budget.change(by: 40, limit: limit)  // a tunnel of worker 1: together, the limit
        XCTAssertFalse(budget.hasRoom(limit: limit))
        XCTAssertEqual(budget.held, 100)
    }

    func testAWorkerRefusedForWantOfRoomIsWokenByAReleaseOnAnother() {
        let budget = EngineTunnelBudget()
        _ = budget.change(by: 100, limit: limit)
        let second = EngineTunnelBudget.bit(ofWorker: 1)
        XCTAssertFalse(budget.markWaiting(second, limit: limit))
        // Still at the limit: nobody is woken yet.
        XCTAssertEqual(budget.change(by: 10, limit: limit), 0)
        XCTAssertEqual(budget.change(by: -10, limit: limit), 0)
        // Under it: the waiting worker, once.
        XCTAssertEqual(budget.change(by: -30, limit: limit), second)
        XCTAssertEqual(budget.change(by: -30, limit: limit), 0)
    }

    func testEveryWaitingWorkerIsWokenTogether() {
        let budget = EngineTunnelBudget()
        _ = budget.change(by: 150, limit: limit)
        _ = budget.markWaiting(EngineTunnelBudget.bit(ofWorker: 0), limit: limit)
        _ = budget.markWaiting(EngineTunnelBudget.bit(ofWorker: 3), limit: limit)
        XCTAssertEqual(budget.change(by: -150, limit: limit), 0b1001)
    }

    func testRoomReleasedBeforeTheMarkIsSeenByTheWorkerItself() {
        // The worker found no room; the release came before its mark and woke nobody: marking tells it to read on.
        let budget = EngineTunnelBudget()
        _ = budget.change(by: 100, limit: limit)
        XCTAssertFalse(budget.hasRoom(limit: limit))
        XCTAssertEqual(budget.change(by: -50, limit: limit), 0)
        XCTAssertTrue(budget.markWaiting(EngineTunnelBudget.bit(ofWorker: 2), limit: limit))
    }

    func testHoldingBytesWakesNobodyAndNoChangeTouchesNothing() {
        let budget = EngineTunnelBudget()
        _ = budget.markWaiting(EngineTunnelBudget.bit(ofWorker: 0), limit: 0)
        XCTAssertEqual(budget.change(by: 0, limit: limit), 0)
        XCTAssertEqual(budget.change(by: 20, limit: limit), 0)
        XCTAssertEqual(budget.held, 20)
    }

    func testWorkersPastSixtyFourShareBits() {
        XCTAssertEqual(EngineTunnelBudget.bit(ofWorker: 0), 1)
        XCTAssertEqual(EngineTunnelBudget.bit(ofWorker: 63), 1 << 63)
        XCTAssertEqual(EngineTunnelBudget.bit(ofWorker: 64), 1)
    }

    func testWorkersHoldingAndReleasingAtOnceLeaveTheCountRight() {
        let budget = EngineTunnelBudget()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<10_000 {
                _ = budget.change(by: round % 7 + 1, limit: 1 << 20)
                _ = budget.change(by: -(round % 7 + 1), limit: 1 << 20)
            }
            _ = budget.change(by: worker, limit: 1 << 20)
        }
        XCTAssertEqual(budget.held, (0..<8).reduce(0, +))
    }
}
