import NIOCore
import NIOHTTP1
import XCTest

@testable import GatewayCore

/// The mark of the gateway's own answers (`X-Gateway-Error`) never comes from an upstream: a client replays a request
/// after a token refresh only on a 401 that carries it (issue 22 item 12), so an upstream that could send it would
/// have a client send a POST twice.
final class HeaderRewriterGatewayMarkTests: XCTestCase {
    /// Every spelling an upstream might try, and several copies.
    private let forgedMarks: [(String, String)] = [
        ("X-Gateway-Error", "invalid_token"), ("x-gateway-error", "invalid_token"), ("X-GATEWAY-ERROR", "x"),
        ("x-GaTeWaY-eRrOr", ""),
    ]

    private func text(_ writer: inout ResponseHeadWriter) -> String {
        String(buffer: writer.finish())
    }

    func testTheMarkIsClassifiedInAnyCase() {
        for (name, _) in forgedMarks {
            XCTAssertEqual(HeaderRewriter.classify(name), .gatewayMark, name)
        }
        XCTAssertEqual(HeaderRewriter.classify(GatewayError.markField), .gatewayMark)
        XCTAssertEqual(HeaderRewriter.classify("X-Gateway-Errors"), .other)
        XCTAssertEqual(HeaderRewriter.classify("X-Forwarded-For"), .forwardedFor)
    }

    func testAnUpstreamAnswerLosesEveryCopyOfTheMark() throws {
        for status in [401, 200, 403, 502] {
            var writer = ResponseHeadWriter(version: .http1_1, status: status, allocator: ByteBufferAllocator())
            let fields =
                [("WWW-Authenticate", "Bearer error=\"invalid_token\"")] + forgedMarks + [("Content-Length", "0")]
            let written = HeaderRewriter.writeClientHead(
                status: status, fields: fields.map { (name: $0.0, value: $0.1) }, requestID: "req-1",
                version: .http1_1, keepAlive: true, isHeadRequest: false, into: &writer)
            XCTAssertEqual(written?.framing, .contentLength)
            XCTAssertEqual(written?.closesConnection, false)
            let head = text(&writer)
            XCTAssertFalse(head.lowercased().contains("gateway-error"), head)
            // The rest of the upstream's answer is passed on as it was.
            XCTAssertTrue(head.contains("\r\nWWW-Authenticate: Bearer error=\"invalid_token\"\r\n"), head)
            XCTAssertTrue(head.contains("\r\nContent-Length: 0\r\n"), head)
        }
    }

    func testASwitchingAnswerLosesEveryCopyOfTheMark() {
        var writer = ResponseHeadWriter(version: .http1_1, status: 101, allocator: ByteBufferAllocator())
        let fields =
            [("Upgrade", "websocket"), ("Connection", "Upgrade")] + forgedMarks
            + [("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]
        XCTAssertTrue(
            HeaderRewriter.writeSwitchingHead(
                fields: fields.map { (name: $0.0, value: $0.1) }, requestID: "req-1", into: &writer))
        let head = text(&writer)
        XCTAssertFalse(head.lowercased().contains("gateway-error"), head)
        XCTAssertTrue(head.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), head)
    }

    func testAClientsCopyIsPassedUpstreamAsAnyOtherField() {
        // Only answers are marked: a request field of that name means nothing to the gateway.
        let rewriter = HeaderRewriter(identity: IdentityConfig(), trustedProxies: [])
        let result = rewriter.upstreamHeaders(
            for: HTTPHeaders([("X-Gateway-Error", "client")]), identity: nil, forwardAuthorization: false,
            context: ForwardingContext(peerAddress: "203.0.113.9", scheme: "https", requestID: "req-1"))
        XCTAssertEqual(result.filter { $0.name == "X-Gateway-Error" }.map(\.value), ["client"])
    }
}
