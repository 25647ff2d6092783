import XCTest

@testable import Engine

/// SIGTERM's drain on one connection (issue 23): idle ones close, answers in flight announce `Connection: close`.
final class EngineConnectionDrainTests: XCTestCase {
    private let keepAlive = EngineConnection.RequestShape(keepAlive: true, isHead: false, isHTTP10: false)

    func testAnIdleConnectionClosesAtOnce() {
        var connection = EngineConnection()
        XCTAssertEqual(connection.drain(hasPartialHead: false), .close)
    }

    func testAPartlyReadRequestIsStillAnswered() {
        var connection = EngineConnection()
        XCTAssertEqual(connection.drain(hasPartialHead: true), .finishThenClose)
    }

    func testAnAnswerNotYetStartedAnnouncesConnectionClose() {
        var connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: true)
        XCTAssertEqual(connection.drain(hasPartialHead: false), .finishThenClose)
        XCTAssertEqual(
            connection.upstreamHeadReceived(status: 200, hasContentLength: true, passable: true),
            .writeHead(.length, closes: true))
        XCTAssertEqual(connection.upstreamEnded(), .finish(lastChunk: false, .close))
    }

    func testAnAnswerBeingRelayedClosesTheConnectionAtItsEnd() {
        var connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: true)
        _ = connection.upstreamHeadReceived(status: 200, hasContentLength: false, passable: true)
        XCTAssertEqual(connection.drain(hasPartialHead: false), .finishThenClose)
        XCTAssertEqual(connection.upstreamEnded(), .finish(lastChunk: true, .close))
    }

    func testAControlRequestAwaitingItsAnswerEndsTheConnectionWithIt() {
        var connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: true)
        _ = connection.drain(hasPartialHead: false)
        // The control endpoints' answer ends the request as a local answer does (`upstreamFailed`).
        XCTAssertEqual(connection.upstreamFailed(), .answer(.close))
    }

    func testALingeringConnectionIsLeftToItsDeadlines() {
        var connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: false, body: .init(announced: true))
        XCTAssertEqual(connection.drain(hasPartialHead: false), .none)
    }
}
