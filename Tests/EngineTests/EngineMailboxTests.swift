import Foundation
import Glibc
import XCTest

@testable import Engine

/// The worker's mailbox (issue 23): what other threads post arrives whole and in order, and a batch costs one wakeup.
final class EngineMailboxTests: XCTestCase {
    func testOnlyThePostFindingTheQueueEmptyWakesTheWorker() throws {
        let mailbox = try EngineMailbox<Int>()
        XCTAssertTrue(mailbox.post(1))
        XCTAssertFalse(mailbox.post(2))
        XCTAssertFalse(mailbox.post(3))
        XCTAssertEqual(Self.pendingWakeups(mailbox), 1)
        XCTAssertEqual(mailbox.takeAll(), [1, 2, 3])
        XCTAssertEqual(Self.pendingWakeups(mailbox), 0)
        XCTAssertTrue(mailbox.post(4), "after a take, the next post wakes the worker again")
        XCTAssertEqual(mailbox.takeAll(), [4])
    }

    func testTakeAllClearsTheWakeupSoAnEmptyMailboxIsNotReadable() throws {
        let mailbox = try EngineMailbox<Int>()
        mailbox.post(7)
        _ = mailbox.takeAll()
        var poll = pollfd(fd: mailbox.descriptor, events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(Glibc.poll(&poll, 1, 0), 0)
        mailbox.post(8)
        XCTAssertEqual(Glibc.poll(&poll, 1, 0), 1)
    }

    func testPostsFromManyThreadsAllArriveAndEachThreadsInOrder() throws {
        let mailbox = try EngineMailbox<[Int]>()
        let threads = 4
        let perThread = 500
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread { mailbox.post([thread, index]) }
        }
        let taken = mailbox.takeAll()
        XCTAssertEqual(taken.count, threads * perThread)
        for thread in 0..<threads {
            XCTAssertEqual(taken.filter { $0[0] == thread }.map { $0[1] }, Array(0..<perThread))
        }
    }

    /// The `eventfd` counter without consuming the queue: read, then put back what was read.
    private static func pendingWakeups<Mail>(_ mailbox: EngineMailbox<Mail>) -> UInt64 {
        var count: UInt64 = 0
        guard read(mailbox.descriptor, &count, MemoryLayout<UInt64>.size) == MemoryLayout<UInt64>.size else { return 0 }
        _ = write(mailbox.descriptor, &count, MemoryLayout<UInt64>.size)
        return count
    }
}
