import Foundation
import GatewayCore
import Tokens
import XCTest

@testable import Engine

/// A connection's life as the engine's state machine decides it, without sockets: a client leaving before or during
/// its answer, an upstream failing before its head, local answers to pipelined requests in order, and a control
/// request ending like a local answer.
final class EngineConnectionLifecycleTests: XCTestCase {
    private let keepAlive = EngineConnection.RequestShape(keepAlive: true, isHead: false, isHTTP10: false)

    func testAClientLeavingBeforeItsAnswerAbortsTheTransferAndLateUpstreamEventsChangeNothing() {
        var connection = EngineConnection()
        XCTAssertEqual(connection.headReceived(keepAlive, forward: true), .startTransfer)
        // The worker logs the request then (499: no status yet) and aborts the transfer.
        XCTAssertEqual(connection.peerClosed(), .abortTransferAndClose)
        XCTAssertEqual(connection.state, .closed)
        // Whatever libcurl still reports for the abandoned transfer writes nothing and ends nothing a second time.
        XCTAssertEqual(connection.upstreamHeadReceived(status: 200, hasContentLength: true, passable: true), .ignore)
        XCTAssertEqual(connection.upstreamBodyReceived(), .discard)
        XCTAssertEqual(connection.upstreamEnded(), .ignore)
        XCTAssertEqual(connection.upstreamFailed(), .ignore)
        XCTAssertEqual(connection.state, .closed)
    }

    func testAClientLeavingMidAnswerAbortsTheTransferOnceAndTheRestOfTheAnswerIsDropped() {
        var connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: true)
        _ = connection.upstreamHeadReceived(status: 200, hasContentLength: true, passable: true)
        XCTAssertEqual(connection.upstreamBodyReceived(), .writeRaw)
        // Logged with the upstream's status (the head went out), cut off.
        XCTAssertEqual(connection.peerClosed(), .abortTransferAndClose)
        XCTAssertEqual(connection.upstreamBodyReceived(), .discard)
        XCTAssertEqual(connection.upstreamEnded(), .ignore)
        XCTAssertEqual(connection.peerClosed(), .close, "the transfer is aborted once")
    }

    func testAnUpstreamFailingBeforeItsHeadIsAnsweredHereAndTheConnectionKept() {
        var connection = EngineConnection()
        _ = connection.headReceived(keepAlive, forward: true)
        let failure = UpstreamFailure(curlCode: 28, message: "slow", requestWasSent: true)
        XCTAssertEqual(connection.upstreamFailed(), .answer(.next))
        XCTAssertEqual(connection.state, .awaitingHead)
        XCTAssertEqual(failure.answer.status.code, 504)
        XCTAssertEqual(failure.answer.code, "gateway_timeout")
        XCTAssertEqual(failure.logText, "upstream_timeout: slow")
    }

    func testPipelinedRequestsAnsweredHereAreAnsweredOneAfterTheOtherInOrder() throws {
        let config = try ConfigLoader(environment: [:]).parse(
            text: """
                [[wechat.apps]]
                appid = "wxA"
                secret = "s"

                [tokens]
                secret = "0123456789abcdef0123456789abcdef"

                [[routes]]
                prefix = "/api/"
                upstreams = ["http://127.0.0.1:9001"]
                """
        ).get()
        let ring = try config.tokens.makeKeyRing().get()
        let verifier = GatewayRuntime.makeVerifier(config: config.tokens, keyRing: ring, revocations: RevocationList())
        let settings = EngineSettings(
            runtime: GatewayRuntime(config: config, verifier: verifier, control: nil), accessLogger: nil)
        let first = "GET /nowhere HTTP/1.1\r\nHost: gw\r\n\r\n"
        let bytes = Array((first + "GET /api/x HTTP/1.1\r\nHost: gw\r\n\r\n").utf8)
        var connection = EngineConnection()
        var answers = ""
        bytes.withUnsafeBytes { raw in
            let buffer = raw.baseAddress!
            let parser = RequestHeadParser()
            var offset = 0
            // The parser stops after each request: the next is parsed only once this one has been answered.
            while offset < raw.count,
                case .request(let consumed) = parser.parse(buffer, from: offset, count: raw.count - offset)
            {
                var rules: [RequestFieldRule] = []
                guard
                    case .answer(let error, let id, _, _) = settings.planner.plan(
                        parser.head, in: buffer, rules: &rules, now: Date())
                else { return XCTFail("forwarded") }
                XCTAssertEqual(connection.headReceived(keepAlive, forward: false), .answer(.next))
                var out: [UInt8] = []
                _ = ClientHeadWriter.writeAnswer(
                    error, requestID: id, realm: "gateway", isHead: false, closes: false, isHTTP10: false, into: &out)
                answers += String(decoding: out, as: UTF8.self)
                offset += consumed
            }
        }
        let notFound = try XCTUnwrap(answers.range(of: "HTTP/1.1 404"))
        let unauthorized = try XCTUnwrap(answers.range(of: "HTTP/1.1 401"))
        XCTAssertLessThan(notFound.lowerBound, unauthorized.lowerBound)
        XCTAssertTrue(answers.contains("WWW-Authenticate: Bearer realm=\"gateway\""), answers)
        XCTAssertEqual(connection.state, .awaitingHead, "kept alive for the next request")
    }

    func testAControlRequestsAnswerEndsItAsALocalAnswerDoesAndTheNextIsRead() {
        // The worker collects the body, runs the endpoints in a Task and hands their answer back through its
        // mailbox; the state machine sees the request as one in flight whose answer ends it here.
        var connection = EngineConnection()
        XCTAssertEqual(
            connection.headReceived(keepAlive, forward: true, body: .init(announced: true, maxBytes: 100)),
            .startTransfer)
        _ = connection.bodyArrived(2, ended: true, pending: 2, limit: 50)
        XCTAssertEqual(connection.upstreamFailed(), .answer(.next))
        XCTAssertEqual(connection.state, .awaitingHead)
    }
}
