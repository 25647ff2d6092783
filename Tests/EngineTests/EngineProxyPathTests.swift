import Foundation
import GatewayCore
import Tokens
import XCTest

@testable import Engine

/// The engine's proxied-request decisions (issue 23): CORS, several upstreams and their
/// retry, Host checks and header limits, the client's HTTP version, trusted proxies and Trace Context.
final class EngineProxyPathTests: XCTestCase {
    private static let config = """
        [[wechat.apps]]
        appid = "wxA"
        secret = "s"

        [tokens]
        secret = "0123456789abcdef0123456789abcdef"

        [server]
        max_header_bytes = 4096
        trusted_proxies = ["10.0.0.0/8"]

        [cors]
        allow_origins = ["https://h5.example.com"]

        [[routes]]
        prefix = "/api/"
        auth = "none"
        upstreams = ["http://127.0.0.1:9001", "http://127.0.0.1:9002"]
        """

    private func runtime() throws -> GatewayRuntime {
        let config = try ConfigLoader(environment: [:]).parse(text: Self.config).get()
        let ring = try config.tokens.makeKeyRing().get()
        let verifier = GatewayRuntime.makeVerifier(config: config.tokens, keyRing: ring, revocations: RevocationList())
        return GatewayRuntime(config: config, verifier: verifier, control: nil)
    }

    /// Parses `text` and hands the head and its buffer to `body`.
    private func withHead<T>(_ text: String, _ body: (RequestHead, UnsafeRawPointer) throws -> T) rethrows -> T {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { raw in
            let parser = RequestHeadParser()
            _ = parser.parse(raw.baseAddress!, from: 0, count: raw.count)
            return try body(parser.head, raw.baseAddress!)
        }
    }

    private func plan(_ text: String) throws -> RequestDecision {
        let settings = EngineSettings(runtime: try runtime(), accessLogger: nil)
        return withHead(text) { head, buffer in
            var rules: [RequestFieldRule] = []
            return settings.planner.plan(head, in: buffer, rules: &rules, now: Date())
        }
    }

    func testAPreflightFromAnAllowedOriginIsAnsweredAndAnotherRefused() throws {
        let settings = EngineSettings(runtime: try runtime(), accessLogger: nil)
        let allowed = withHead(
            "OPTIONS /any HTTP/1.1\r\nHost: h\r\nOrigin: https://h5.example.com\r\n"
                + "Access-Control-Request-Method: POST\r\n\r\n"
        ) { settings.planner.corsDecision($0, in: $1) }
        guard case .answerPreflight(let fields) = allowed else { return XCTFail("\(String(describing: allowed))") }
        XCTAssertTrue(fields.contains(CorsPolicy.Field("Access-Control-Allow-Origin", "https://h5.example.com")))
        let foreign = withHead(
            "OPTIONS /any HTTP/1.1\r\nHost: h\r\nOrigin: https://evil.example\r\n"
                + "Access-Control-Request-Method: POST\r\n\r\n"
        ) { settings.planner.corsDecision($0, in: $1) }
        XCTAssertEqual(foreign, .refusePreflight)
        XCTAssertEqual(EngineRequestPlanner.answerFields(foreign).isActive, true)
        XCTAssertEqual(EngineRequestPlanner.answerFields(nil), .none)
    }

    func testTheUpstreamsAccessControlFieldsGiveWayToTheGateways() {
        var upstream = UpstreamHead()
        for line in ["HTTP/1.1 200 OK", "Date: d", "Access-Control-Allow-Origin: *", "Vary: Origin", ""] {
            _ = Array((line + "\r\n").utf8).withUnsafeBytes { upstream.receive($0) }
        }
        var cors = CorsPolicy.AnswerFields.none
        cors.isActive = true
        cors.fields = [CorsPolicy.Field("Access-Control-Allow-Origin", "https://h5.example.com")]
        var out: [UInt8] = []
        ClientHeadWriter.writeHead(
            upstream, contentLength: nil, framing: .none, closes: false, requestID: "rid", isHTTP10: false,
            cors: cors, into: &out)
        XCTAssertEqual(
            String(decoding: out, as: UTF8.self),
            "HTTP/1.1 200 OK\r\nDate: d\r\nVary: Origin\r\nAccess-Control-Allow-Origin: https://h5.example.com\r\n"
                + "X-Request-Id: rid\r\n\r\n")
    }

    func testAnHTTP10ClientIsAnsweredInItsVersion() {
        var out: [UInt8] = []
        _ = ClientHeadWriter.writeAnswer(
            .routeNotFound, requestID: "rid", realm: "r", isHead: false, closes: true, isHTTP10: true, into: &out)
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.0 404 Not Found\r\n"), text)
        XCTAssertTrue(text.contains("Content-Type: application/json; charset=utf-8\r\n"), text)
    }

    func testRequestsGoRoundTheRoutesUpstreams() throws {
        let settings = EngineSettings(runtime: try runtime(), accessLogger: nil)
        var picked: [Int] = []
        for _ in 0..<2 {
            let decision = withHead("GET /api/x HTTP/1.1\r\nHost: h\r\n\r\n") { head, buffer in
                var rules: [RequestFieldRule] = []
                return settings.planner.plan(head, in: buffer, rules: &rules, now: Date())
            }
            guard case .forward(let plan) = decision else { return XCTFail() }
            picked.append(plan.upstreamIndex)
        }
        XCTAssertEqual(Set(picked), [0, 1])
    }

    func testOnlyAnIdempotentBodilessRequestWhoseConnectionFailedIsRetried() {
        let refused = UpstreamFailure(curlCode: 7, message: "refused", requestWasSent: false)
        XCTAssertEqual(refused.answer, .upstreamUnreachable)
        XCTAssertEqual(refused.logText, "upstream_unreachable: refused")
        let broken = UpstreamFailure(curlCode: 56, message: "reset", requestWasSent: true)
        XCTAssertEqual(broken.answer, .upstreamBroken)
        XCTAssertFalse(broken.couldNotConnect)
        XCTAssertEqual(UpstreamFailure(curlCode: 28, message: "t", requestWasSent: true).answer, .upstreamTimeout)
        let shape = EngineConnection.RequestShape(keepAlive: true, isHead: false, isHTTP10: false)
        var connection = EngineConnection()
        _ = connection.headReceived(shape, forward: true)
        XCTAssertTrue(connection.mayRetry(method: "GET", attempts: 1, failure: refused))
        XCTAssertFalse(connection.mayRetry(method: "GET", attempts: 2, failure: refused))
        XCTAssertFalse(connection.mayRetry(method: "POST", attempts: 1, failure: refused))
        XCTAssertFalse(connection.mayRetry(method: "GET", attempts: 1, failure: broken))
        var uploading = EngineConnection()
        _ = uploading.headReceived(shape, forward: true, body: EngineConnection.RequestBody(announced: true))
        XCTAssertFalse(uploading.mayRetry(method: "PUT", attempts: 1, failure: refused))
    }

    func testAnHTTP11RequestNeedsExactlyOneValidHostAndAHeadWithinTheLimit() throws {
        for text in [
            "GET /api/x HTTP/1.1\r\n\r\n", "GET /api/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET /api/x HTTP/1.1\r\nHost: a/b\r\n\r\n",
        ] {
            guard case .answer(let error, _, _, _) = try plan(text) else { return XCTFail(text) }
            XCTAssertEqual(error, .malformedRequest, text)
        }
        guard case .forward = try plan("GET /api/x HTTP/1.0\r\n\r\n") else { return XCTFail() }
        let big = "GET /api/x HTTP/1.1\r\nHost: h\r\nX-Big: \(String(repeating: "a", count: 4100))\r\n\r\n"
        guard case .answer(.headersTooLarge, _, _, _) = try plan(big) else { return XCTFail() }
    }

    func testATrustedProxysForwardedFieldsAreKeptAndTheGatewaysTraceparentReplacesTheClients() throws {
        let runtime = try runtime()
        let fields = [
            ("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https"),
            ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), ("tracestate", "a=b"),
        ]
        let lines =
            EnginePlannerFixture.upstreamRequest(
                runtime, "GET /api/x HTTP/1.1", fields, host: "h", peer: "10.0.0.1", trustedPeer: true, traced: true)?
            .lines ?? []
        XCTAssertTrue(lines.contains("X-Forwarded-For: 203.0.113.7, 10.0.0.1"), "\(lines)")
        XCTAssertTrue(lines.contains("X-Forwarded-Proto: https"), "\(lines)")
        XCTAssertTrue(lines.contains("tracestate: a=b"), "\(lines)")
        let traceparents = lines.filter { $0.hasPrefix("traceparent: ") }
        XCTAssertEqual(traceparents.count, 1, "\(lines)")
        XCTAssertTrue(traceparents[0].hasPrefix("traceparent: 00-0af7651916cd43dd8448eb211c80319c-"), "\(lines)")
        XCTAssertFalse(traceparents[0].contains("b7ad6b7169203331"), "the gateway's span is the parent")
    }
}
