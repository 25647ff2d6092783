import XCTest

@testable import Engine

/// The engine's connection state machine without sockets: event sequences in, actions out (issue 23).
final class EngineConnectionTests: XCTestCase {
    private let keepAlive = EngineConnection.RequestShape(keepAlive: true, isHead: false, isHTTP10: false)

    func testForwardedRequestWithLengthIsRelayedAndTheConnectionKept() {
        var connection = EngineConnection()
        XCTAssertEqual(connection.headReceived(keepAlive, forward: true), .startTransfer)
        XCTAssertEqual(
            connection.upstreamHeadReceived(status: 200, hasContentLength: true, passable: true),
            .writeHead(.length, closes: false))
        XCTAssertEqual(connection.upstreamBodyReceived(), .writeRaw)
        XCTAssertEqual(connection.upstreamEnded(), .finish(lastChunk: false, .next))
        XCTAssertEqual(connection.state, .awaitingHead)
    }

    func testAnswerWithoutLengthIsChunkedForHTTP11AndEndsWithTheLastChunk() {
        var connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: true)
        XCTAssertEqual(
            connection.upstreamHeadReceived(status: 200, hasContentLength: false, passable: true),
            .writeHead(.chunked, closes: false))
        XCTAssertEqual(connection.upstreamBodyReceived(), .writeChunk)
        XCTAssertEqual(connection.upstreamEnded(), .finish(lastChunk: true, .next))
    }

    func testHTTP10AnswerWithoutLengthEndsWithTheConnection() {
        var connection = EngineConnection()
        let shape = EngineConnection.RequestShape(keepAlive: true, isHead: false, isHTTP10: true)
        _ = connection.headReceived(shape, forward: true)
        XCTAssertEqual(
            connection.upstreamHeadReceived(status: 200, hasContentLength: false, passable: true),
            .writeHead(.untilClose, closes: true))
        XCTAssertEqual(connection.upstreamEnded(), .finish(lastChunk: false, .close))
        XCTAssertEqual(connection.state, .closed)
    }

    func testHeadRequestAnswerHasNoBody() {
        var connection = EngineConnection()
        _ = connection.headReceived(.init(keepAlive: true, isHead: true, isHTTP10: false), forward: true)
        XCTAssertEqual(
            connection.upstreamHeadReceived(status: 200, hasContentLength: true, passable: true),
            .writeHead(.none, closes: false))
        XCTAssertEqual(connection.upstreamBodyReceived(), .discard)
    }

    func testInterimHeadIsIgnoredAndTheFinalOneWritten() {
        var connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: true)
        XCTAssertEqual(connection.upstreamHeadReceived(status: 100, hasContentLength: false, passable: true), .ignore)
        XCTAssertEqual(
            connection.upstreamHeadReceived(status: 204, hasContentLength: false, passable: true),
            .writeHead(.none, closes: false))
    }

    func testRefusedHeadAbortsAndTheFailureAnswersLocally() {
        var connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: true)
        XCTAssertEqual(connection.upstreamHeadReceived(status: 200, hasContentLength: true, passable: false), .abort)
        XCTAssertEqual(connection.upstreamFailed(), .answer(.next))
        XCTAssertEqual(connection.state, .awaitingHead)
    }

    func testFailureAfterTheHeadClosesTheConnection() {
        var connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: true)
        _ = connection.upstreamHeadReceived(status: 200, hasContentLength: true, passable: true)
        XCTAssertEqual(connection.upstreamFailed(), .close)
        XCTAssertEqual(connection.state, .closed)
    }

    func testLocalAnswerKeepsOrClosesAsAsked() {
        var connection = EngineConnection()
        XCTAssertEqual(connection.headReceived(keepAlive, forward: false), .answer(.next))
        XCTAssertEqual(connection.headReceived(keepAlive, forward: false, closes: true), .answer(.close))
        XCTAssertEqual(connection.state, .closed)
    }

    func testClientAskingToCloseIsClosedAfterItsAnswer() {
        var connection = EngineConnection()
        _ = connection.headReceived(.init(keepAlive: false, isHead: false, isHTTP10: false), forward: true)
        XCTAssertEqual(
            connection.upstreamHeadReceived(status: 200, hasContentLength: true, passable: true),
            .writeHead(.length, closes: true))
        XCTAssertEqual(connection.upstreamEnded(), .finish(lastChunk: false, .close))
    }

    func testAHeadWhileAnsweringIsRefused() {
        var connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: true)
        XCTAssertEqual(connection.headReceived(keepAlive, forward: true), .close)
    }

    func testPeerClosingMidTransferAbortsIt() {
        var connection = EngineConnection()
        XCTAssertEqual(connection.peerClosed(), .close)
        connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: true)
        XCTAssertEqual(connection.peerClosed(), .abortTransferAndClose)
    }

    func testSlowClientPausesTheUpstreamOnceAndDrainingResumesIt() {
        var connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: true)
        _ = connection.upstreamHeadReceived(status: 200, hasContentLength: false, passable: true)
        XCTAssertFalse(connection.outputPending(100, limit: 1000))
        XCTAssertTrue(connection.outputPending(2000, limit: 1000))
        XCTAssertFalse(connection.outputPending(3000, limit: 1000))
        XCTAssertTrue(connection.outputDrained())
        XCTAssertFalse(connection.outputDrained())
    }

    func testUnparsableBytesAreAnsweredAndClosed() {
        var connection = EngineConnection()
        XCTAssertEqual(connection.parseFailed(), .answer(.close))
        XCTAssertEqual(connection.state, .closed)
    }
}
