import XCTest

@testable import Engine

/// The request-body decisions of the engine's connection state machine, without sockets (issue 23): streaming to
/// libcurl's read callback, back-pressure on the client, limits, 100-continue and the lingering close.
final class EngineConnectionBodyTests: XCTestCase {
    private let shape = EngineConnection.RequestShape(keepAlive: true, isHead: false, isHTTP10: false)
    private let body = EngineConnection.RequestBody(announced: true, maxBytes: 100)

    private func uploading() -> EngineConnection {
        var connection = EngineConnection()
        XCTAssertEqual(connection.headReceived(shape, forward: true, body: body), .startTransfer)
        return connection
    }

    func testContinueIsSentOnlyToAForwardedHTTP11Request() {
        let expecting = EngineConnection.RequestBody(announced: true, expectsContinue: true, maxBytes: 100)
        var connection = EngineConnection()
        XCTAssertEqual(connection.headReceived(shape, forward: true, body: expecting), .continueAndStartTransfer)
        let http10 = EngineConnection.RequestShape(keepAlive: false, isHead: false, isHTTP10: true)
        connection = EngineConnection()
        XCTAssertEqual(connection.headReceived(http10, forward: true, body: expecting), .startTransfer)
        // Refused: the final answer, no 100, and the unread body is drained by lingering.
        connection = EngineConnection()
        XCTAssertEqual(connection.headReceived(shape, forward: false, body: expecting), .answer(.linger))
        XCTAssertEqual(connection.state, .lingering)
    }

    func testUploadPausesWhileNothingWaitsAndResumesWhenBytesCome() {
        var connection = uploading()
        XCTAssertEqual(connection.upstreamWantsBody(pending: 0), .pause)
        XCTAssertTrue(connection.upstreamPause.send)
        XCTAssertEqual(
            connection.bodyArrived(10, ended: false, pending: 10, limit: 50),
            .feed(resumeUpstream: true, holdReads: false))
        XCTAssertFalse(connection.upstreamPause.send)
        XCTAssertEqual(connection.upstreamWantsBody(pending: 10), .copy)
        // More bytes while libcurl is not waiting: nothing to resume.
        XCTAssertEqual(
            connection.bodyArrived(5, ended: true, pending: 5, limit: 50),
            .feed(resumeUpstream: false, holdReads: false))
        XCTAssertEqual(connection.upstreamWantsBody(pending: 5), .copy)
        XCTAssertEqual(connection.upstreamWantsBody(pending: 0), .end)
        XCTAssertEqual(connection.upload?.received, 15)
    }

    func testTheEndAloneResumesAWaitingUpload() {
        var connection = uploading()
        XCTAssertEqual(connection.upstreamWantsBody(pending: 0), .pause)
        XCTAssertEqual(
            connection.bodyArrived(0, ended: true, pending: 0, limit: 50), .feed(resumeUpstream: true, holdReads: false)
        )
        XCTAssertEqual(connection.upstreamWantsBody(pending: 0), .end)
    }

    func testClientIsNotReadWhileTheBufferIsFullOfBodyAndIsReadAgainOnceLibcurlTakesSome() {
        var connection = uploading()
        XCTAssertEqual(
            connection.bodyArrived(50, ended: false, pending: 50, limit: 50),
            .feed(resumeUpstream: false, holdReads: true))
        XCTAssertFalse(connection.bodyTaken(pending: 50, limit: 50))
        XCTAssertTrue(connection.bodyTaken(pending: 20, limit: 50))
        XCTAssertFalse(connection.bodyTaken(pending: 0, limit: 50))
    }

    func testPausingBothDirectionsIsOneMask() {
        var connection = uploading()
        XCTAssertEqual(connection.upstreamWantsBody(pending: 0), .pause)
        _ = connection.upstreamHeadReceived(status: 200, hasContentLength: false, passable: true)
        XCTAssertTrue(connection.outputPending(2000, limit: 1000))
        XCTAssertTrue(connection.upstreamPause == (receive: true, send: true))
        XCTAssertTrue(connection.outputDrained())
        XCTAssertTrue(connection.upstreamPause == (receive: false, send: true))
    }

    func testBodyGrowingPastTheLimitIsRefusedBeforeTheHeadAndCutOffAfterIt() {
        var connection = uploading()
        XCTAssertEqual(
            connection.bodyArrived(60, ended: false, pending: 60, limit: 1000),
            .feed(resumeUpstream: false, holdReads: false))
        XCTAssertEqual(connection.bodyArrived(41, ended: false, pending: 41, limit: 1000), .refuseTooLarge)
        XCTAssertEqual(connection.state, .lingering)
        connection = uploading()
        _ = connection.upstreamHeadReceived(status: 200, hasContentLength: true, passable: true)
        XCTAssertEqual(connection.bodyArrived(101, ended: false, pending: 101, limit: 1000), .abortAndClose)
        XCTAssertEqual(connection.state, .closed)
    }

    func testBodyExactlyAtTheLimitIsTaken() {
        var connection = uploading()
        XCTAssertEqual(
            connection.bodyArrived(100, ended: true, pending: 100, limit: 1000),
            .feed(resumeUpstream: false, holdReads: false))
    }

    func testLingeringDropsTheBodyAndClosesAtItsEnd() {
        var connection = EngineConnection()
        XCTAssertEqual(connection.headReceived(shape, forward: false, body: body), .answer(.linger))
        XCTAssertEqual(connection.bodyArrived(10, ended: false, pending: 10, limit: 50), .discard)
        XCTAssertEqual(connection.bodyArrived(10, ended: true, pending: 0, limit: 50), .close)
        XCTAssertEqual(connection.state, .closed)
    }

    func testAnswerEndingBeforeTheBodyLingersAndAfterItKeepsTheConnection() {
        var connection = uploading()
        _ = connection.upstreamHeadReceived(status: 413, hasContentLength: true, passable: true)
        XCTAssertEqual(connection.upstreamEnded(), .finish(lastChunk: false, .linger))
        XCTAssertEqual(connection.state, .lingering)
        connection = uploading()
        _ = connection.bodyArrived(3, ended: true, pending: 3, limit: 50)
        _ = connection.upstreamHeadReceived(status: 200, hasContentLength: true, passable: true)
        XCTAssertEqual(connection.upstreamEnded(), .finish(lastChunk: false, .next))
        XCTAssertEqual(connection.state, .awaitingHead)
    }

    func testFailureBeforeTheHeadWithTheBodyStillComingIsAnsweredThenLingers() {
        var connection = uploading()
        XCTAssertEqual(connection.upstreamFailed(), .answer(.linger))
        connection = uploading()
        _ = connection.bodyArrived(3, ended: true, pending: 3, limit: 50)
        XCTAssertEqual(connection.upstreamFailed(), .answer(.next))
    }

    func testBrokenChunkFramingIsAnsweredBeforeTheHeadAndClosedAfterIt() {
        var connection = uploading()
        XCTAssertEqual(connection.bodyMalformed(), .abortAndAnswer)
        XCTAssertEqual(connection.state, .closed)
        connection = uploading()
        _ = connection.upstreamHeadReceived(status: 200, hasContentLength: true, passable: true)
        XCTAssertEqual(connection.bodyMalformed(), .abortAndClose)
    }

    func testReadCallbackWithoutAnUploadAborts() {
        var connection = EngineConnection()
        XCTAssertEqual(connection.upstreamWantsBody(pending: 0), .abort)
        XCTAssertEqual(connection.headReceived(shape, forward: true), .startTransfer)
        XCTAssertEqual(connection.upstreamWantsBody(pending: 0), .abort)
        XCTAssertEqual(connection.bodyArrived(0, ended: false, pending: 0, limit: 50), .discard)
    }

    func testClientClosingMidBodyAbortsTheTransfer() {
        var connection = uploading()
        XCTAssertEqual(connection.peerClosed(), .abortTransferAndClose)
    }
}
