import XCTest

@testable import Engine

/// The client timer of the engine's connection state machine (issue 23): idle between
/// requests, `client_timeout` from a request's first byte to its last, a 408 for a body that stops coming.
final class EngineConnectionTimerTests: XCTestCase {
    private let timeouts = EngineConnection.Timeouts(idle: 100, client: 10)
    private let shape = EngineConnection.RequestShape(keepAlive: true, isHead: false, isHTTP10: false)

    func testAnIdleConnectionClosesAtItsDeadlineAndNotBefore() {
        var connection = EngineConnection()
        XCTAssertEqual(connection.armIdle(now: 1000, timeouts), 1100)
        XCTAssertEqual(connection.timerFired(now: 1099), .none)
        XCTAssertEqual(connection.timerFired(now: 1100), .close)
        XCTAssertEqual(connection.state, .closed)
        XCTAssertNil(connection.deadline)
    }

    func testASlowHeadIsCutOffByTheClientTimeoutNotTheIdleOne() {
        var connection = EngineConnection()
        connection.armIdle(now: 0, timeouts)
        XCTAssertEqual(connection.requestBytesArrived(now: 5, timeouts), 15)
        // More bytes of the same head do not move the deadline (a slow loris cannot keep it alive).
        XCTAssertNil(connection.requestBytesArrived(now: 14, timeouts))
        XCTAssertEqual(connection.deadline, 15)
        XCTAssertEqual(connection.timerFired(now: 15), .close)
    }

    func testARequestReadInTimeIsLeftToTheUpstreamTimeout() {
        var connection = EngineConnection()
        _ = connection.requestBytesArrived(now: 0, timeouts)
        XCTAssertEqual(connection.headReceived(shape, forward: true), .startTransfer)
        XCTAssertEqual(connection.timerFired(now: 50), .none)
        XCTAssertEqual(connection.state, .awaitingUpstream(shape, nil))
    }

    func testABodyThatStopsComingIsAnswered408ThenDrained() {
        var connection = EngineConnection()
        _ = connection.requestBytesArrived(now: 0, timeouts)
        let body = EngineConnection.RequestBody(announced: true, maxBytes: 100)
        XCTAssertEqual(connection.headReceived(shape, forward: true, body: body), .startTransfer)
        _ = connection.bodyArrived(5, ended: false, pending: 5, limit: 50)
        XCTAssertEqual(connection.timerFired(now: 10), .abortAndAnswer(.linger))
        XCTAssertEqual(connection.state, .lingering)
    }

    func testABodyThatEndsInTimeIsNotCutOff() {
        var connection = EngineConnection()
        _ = connection.requestBytesArrived(now: 0, timeouts)
        let body = EngineConnection.RequestBody(announced: true, maxBytes: 100)
        _ = connection.headReceived(shape, forward: true, body: body)
        _ = connection.bodyArrived(5, ended: true, pending: 5, limit: 50)
        XCTAssertEqual(connection.timerFired(now: 10), .none)
    }

    func testABodyStillComingAfterTheAnswerStartedIsCutOff() {
        var connection = EngineConnection()
        _ = connection.requestBytesArrived(now: 0, timeouts)
        let body = EngineConnection.RequestBody(announced: true, maxBytes: 100)
        _ = connection.headReceived(shape, forward: true, body: body)
        XCTAssertEqual(
            connection.upstreamHeadReceived(status: 200, hasContentLength: true, passable: true),
            .writeHead(.length, closes: false))
        XCTAssertEqual(connection.timerFired(now: 10), .abortAndClose)
        XCTAssertEqual(connection.state, .closed)
    }

    func testBytesWhileAnsweringDoNotStartTheNextRequestsClock() {
        var connection = EngineConnection()
        _ = connection.requestBytesArrived(now: 0, timeouts)
        _ = connection.headReceived(shape, forward: true)
        connection.armIdle(now: 3, timeouts)
        XCTAssertNil(connection.requestBytesArrived(now: 4, timeouts))
        XCTAssertEqual(connection.deadline, 103)
    }
}
