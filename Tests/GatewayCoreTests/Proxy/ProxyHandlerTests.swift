import CurlHTTP
import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest

@testable import GatewayCore

/// The handler on an `EmbeddedChannel` with a scripted upstream client: bytes in, bytes out, and exactly one
/// access-log entry (counted through the request metric) per request, on every path.
final class ProxyHandlerTests: XCTestCase {
    private var loop: EmbeddedEventLoop!
    private var channel: EmbeddedChannel!
    private var upstreams: ScriptedUpstreams!
    private var metrics: GatewayMetrics!
    private var handler: ProxyHandler!

    override func setUpWithError() throws {
        try connect(runtime: try ProxyFixture.runtime())
    }

    private func connect(runtime: GatewayRuntime) throws {
        loop = EmbeddedEventLoop()
        channel = EmbeddedChannel(loop: loop)
        upstreams = ScriptedUpstreams()
        metrics = GatewayMetrics()
        let inbox = UpstreamEventInbox(eventLoop: loop, index: 0, client: upstreams)
        handler = ProxyHandler(
            holder: RuntimeHolder(runtime), upstreams: upstreams, scheme: "http",
            accessLogger: AccessLogger(writer: nil, metrics: metrics), inbox: inbox,
            deadlines: ConnectionDeadlines(eventLoop: loop))
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "10.0.0.7", port: 5555)).wait()
    }

    override func tearDownWithError() throws {
        _ = try? channel.finish()
    }

    private func send(_ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    /// Everything the handler has flushed to the client so far.
    private func received() throws -> String {
        var text = ""
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { text += String(buffer: buffer) }
        }
        return text
    }

    private func play(_ events: [UpstreamEvent], transfer: Int = 0) {
        upstreams.play(events, transfer: transfer)
        loop.run()
    }

    private let okHead = CurlResponseHead(status: 200, headers: [("Content-Length", "5")], version: "1.1")

    func testProxiedRequestIsRelayedAndLoggedOnce() throws {
        try send("GET /open/hello HTTP/1.1\r\nHost: gw\r\n\r\n")
        XCTAssertEqual(upstreams.started.map(\.request.url), ["http://127.0.0.1:9003/hello"])
        play([
            .head(okHead), .bodyPart(ByteBuffer(string: "hello")), .finished(nil, ScriptedUpstreams.info(bodyBytes: 5)),
        ])
        let answer = try received()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), answer)
        XCTAssertTrue(answer.hasSuffix("\r\n\r\nhello"), answer)
        XCTAssertTrue(answer.contains("X-Request-Id: "), answer)
        XCTAssertEqual(loggedRequests(metrics), 1)
        XCTAssertTrue(channel.isActive, "keep-alive")
    }

    func testChunkedUpstreamBodyIsFramedForTheClient() throws {
        try send("GET /open/stream HTTP/1.1\r\nHost: gw\r\n\r\n")
        let head = CurlResponseHead(status: 200, headers: [("Transfer-Encoding", "chunked")], version: "1.1")
        play([.head(head), .bodyPart(ByteBuffer(string: "abc")), .finished(nil, ScriptedUpstreams.info(bodyBytes: 3))])
        XCTAssertTrue(try received().hasSuffix("\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
    }

    func testClientClosingBeforeTheAnswerIsLogged499AndLateEventsAreIgnored() throws {
        try send("GET /open/slow HTTP/1.1\r\nHost: gw\r\n\r\n")
        channel.pipeline.fireChannelInactive()
        XCTAssertTrue(upstreams.started[0].transfer.cancelled)
        XCTAssertEqual(loggedRequests(metrics, matching: "status=\"499\""), 1)
        play([.head(okHead), .finished(.cancelled, ScriptedUpstreams.info())])
        XCTAssertEqual(loggedRequests(metrics), 1)
    }

    func testClientClosingMidAnswerIsLoggedWhenTheTransferReports() throws {
        try send("GET /open/big HTTP/1.1\r\nHost: gw\r\n\r\n")
        play([.head(okHead), .bodyPart(ByteBuffer(string: "he"))])
        channel.pipeline.fireChannelInactive()
        XCTAssertEqual(loggedRequests(metrics), 0, "waits for libcurl's report")
        play([.finished(.cancelled, ScriptedUpstreams.info(bodyBytes: 2))])
        XCTAssertEqual(loggedRequests(metrics, matching: "status=\"200\""), 1)
    }

    func testUpstreamFailingBeforeItsHeadIsAnErrorAnswer() throws {
        try send("GET /open/x HTTP/1.1\r\nHost: gw\r\n\r\n")
        play([.finished(.timedOut("slow"), ScriptedUpstreams.info())])
        let answer = try received()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 504"), answer)
        XCTAssertTrue(answer.contains("\"error\":\"gateway_timeout\""), answer)
        XCTAssertEqual(loggedRequests(metrics, matching: "status=\"504\""), 1)
    }

    func testUpstreamFailingMidBodyCutsTheConnection() throws {
        try send("GET /open/x HTTP/1.1\r\nHost: gw\r\n\r\n")
        play([
            .head(okHead), .bodyPart(ByteBuffer(string: "he")),
            .finished(.brokenResponse("reset"), ScriptedUpstreams.info()),
        ])
        XCTAssertTrue(try received().hasSuffix("he"))
        XCTAssertFalse(channel.isActive, "a cut answer must not look complete")
        XCTAssertEqual(loggedRequests(metrics), 1)
    }

    func testConnectFailureOfAnIdempotentRequestIsRetriedOnTheOtherUpstream() throws {
        try send("GET /api/x HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer \(try ProxyFixture.token())\r\n\r\n")
        play([.finished(.couldNotConnect("refused"), ScriptedUpstreams.info(sent: false))])
        XCTAssertEqual(upstreams.started.count, 2)
        XCTAssertNotEqual(upstreams.started[0].request.url, upstreams.started[1].request.url)
        // An event of the first, abandoned transfer changes nothing.
        play([.head(okHead)], transfer: 0)
        XCTAssertEqual(try received(), "")
        play(
            [.head(okHead), .bodyPart(ByteBuffer(string: "hello")), .finished(nil, ScriptedUpstreams.info())],
            transfer: 1)
        XCTAssertTrue(try received().hasPrefix("HTTP/1.1 200"))
        XCTAssertEqual(loggedRequests(metrics), 1)
    }

    func testRequestBodyStreamsUpstreamAndOversizedChunkedBodyIs413() throws {
        try send("POST /open/up HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\nhello")
        let transfer = upstreams.started[0].transfer
        XCTAssertEqual(String(buffer: transfer.body), "hello")
        XCTAssertTrue(transfer.finished)
        play([.head(okHead), .bodyPart(ByteBuffer(string: "hello")), .finished(nil, ScriptedUpstreams.info())])
        _ = try received()

        try send("POST /open/up HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n")
        try send("800\r\n" + String(repeating: "x", count: 2048) + "\r\n")
        XCTAssertTrue(upstreams.started[1].transfer.cancelled)
        XCTAssertTrue(try received().hasPrefix("HTTP/1.1 413"))
        XCTAssertEqual(loggedRequests(metrics), 2)
    }

    func testLocalAnswersAndPipelinedRequestsAreAnsweredInOrder() throws {
        try send("GET /nowhere HTTP/1.1\r\nHost: gw\r\n\r\nGET /api/x HTTP/1.1\r\nHost: gw\r\n\r\n")
        let answers = try received()
        let first = try XCTUnwrap(answers.range(of: "HTTP/1.1 404"))
        let second = try XCTUnwrap(answers.range(of: "HTTP/1.1 401"))
        XCTAssertLessThan(first.lowerBound, second.lowerBound)
        XCTAssertTrue(answers.contains("WWW-Authenticate: Bearer realm=\"gateway\""), answers)
        XCTAssertEqual(loggedRequests(metrics), 2)
    }

    func testMalformedBytesAre400AndClose() throws {
        try send("GET / HTTP/1.1\r\nHost gw\r\n\r\n")
        XCTAssertTrue(try received().hasPrefix("HTTP/1.1 400"))
        XCTAssertEqual(loggedRequests(metrics, matching: "status=\"400\""), 1)
        XCTAssertFalse(channel.isActive)
    }

    func testControlRequestIsAnsweredThroughTheEndpointsAndLoggedOnce() throws {
        try send("POST /auth/token HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}")
        // The endpoints run in a Task; their answer comes back through the loop.
        let deadline = Date().addingTimeInterval(10)
        var answer = ""
        while answer.isEmpty && Date() < deadline {
            loop.run()
            answer = try received()
            if answer.isEmpty { Thread.sleep(forTimeInterval: 0.005) }
        }
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200"), answer)
        XCTAssertEqual(loggedRequests(metrics, matching: "route=\"control\""), 1)
    }

    func testIdleConnectionClosesAfterIdleTimeout() throws {
        try connect(runtime: try ProxyFixture.runtime(server: "idle_timeout = \"1ms\""))
        let deadline = try XCTUnwrap(handler.deadline)
        while NIODeadline.now() <= deadline {}  // the deadline is on the real clock; the sweep on the loop's
        loop.advanceTime(by: .milliseconds(200))
        XCTAssertFalse(channel.isActive)
        XCTAssertEqual(loggedRequests(metrics), 0, "no request, nothing to log")
    }
}
