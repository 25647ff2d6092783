import NIOCore
import XCTest

@testable import CurlHTTP

final class RequestBodyQueueTests: XCTestCase {
    private func read(_ queue: inout RequestBodyQueue, max: Int) -> (RequestBodyQueue.ReadOutcome, Bool, [UInt8]) {
        var storage = [UInt8](repeating: 0, count: max)
        let (outcome, notify) = storage.withUnsafeMutableBytes { queue.read(into: $0) }
        if case .bytes(let n) = outcome { return (outcome, notify, Array(storage.prefix(n))) }
        return (outcome, notify, [])
    }

    func testEmptyQueuePausesTheReaderAndTheNextChunkResumesIt() {
        var queue = RequestBodyQueue()
        XCTAssertEqual(read(&queue, max: 10).0, .pause)
        XCTAssertTrue(queue.readerPaused)
        let appended = queue.append(ByteBuffer(string: "abc"))
        XCTAssertTrue(appended.accepted)
        XCTAssertTrue(appended.resumeReader)
        XCTAssertFalse(queue.append(ByteBuffer(string: "d")).resumeReader, "one resume per pause")
        XCTAssertEqual(read(&queue, max: 10).2, Array("abcd".utf8))
    }

    func testReadsSpanChunksAndSplitThem() {
        var queue = RequestBodyQueue()
        _ = queue.append(ByteBuffer(string: "hello "))
        _ = queue.append(ByteBuffer(string: "world"))
        _ = queue.finish()
        XCTAssertEqual(read(&queue, max: 8).2, Array("hello wo".utf8))
        XCTAssertEqual(read(&queue, max: 8).2, Array("rld".utf8))
        XCTAssertEqual(read(&queue, max: 8).0, .end)
    }

    func testFinishResumesAPausedReader() {
        var queue = RequestBodyQueue()
        XCTAssertEqual(read(&queue, max: 4).0, .pause)
        XCTAssertTrue(queue.finish())
        XCTAssertEqual(read(&queue, max: 4).0, .end)
    }

    func testProducerIsStoppedAboveHighWaterAndToldToGoOnAtLowWater() {
        var queue = RequestBodyQueue()
        let chunk = ByteBuffer(repeating: 1, count: 64 * 1024)
        var accepted = true
        var appended = 0
        while accepted {
            accepted = queue.append(chunk).accepted
            appended += 1
        }
        XCTAssertGreaterThan(queue.queuedBytes, RequestBodyQueue.highWaterMark)
        XCTAssertTrue(queue.producerWaiting)
        var notified = false
        while !notified {
            let (outcome, notify, _) = read(&queue, max: 16 * 1024)
            XCTAssertNotEqual(outcome, .pause)
            notified = notify
        }
        XCTAssertLessThanOrEqual(queue.queuedBytes, RequestBodyQueue.lowWaterMark)
        XCTAssertFalse(queue.producerWaiting)
        XCTAssertFalse(read(&queue, max: 16 * 1024).1, "told once")
    }

    func testAbortDropsTheBodyAndAbortsTheReader() {
        var queue = RequestBodyQueue()
        _ = queue.append(ByteBuffer(string: "x"))
        XCTAssertTrue(queue.abort())
        XCTAssertEqual(read(&queue, max: 4).0, .abort)
        XCTAssertFalse(queue.abort())
        XCTAssertEqual(queue.queuedBytes, 0)
    }

    func testCompleteBodyNeedsNoProducer() {
        var queue = RequestBodyQueue(complete: ByteBuffer(string: "all"))
        XCTAssertEqual(read(&queue, max: 10).2, Array("all".utf8))
        XCTAssertEqual(read(&queue, max: 10).0, .end)
        XCTAssertFalse(queue.abort(), "a finished body cannot be aborted")
    }
}
