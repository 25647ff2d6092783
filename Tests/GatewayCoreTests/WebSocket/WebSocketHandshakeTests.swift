import NIOHTTP1
import XCTest

@testable import GatewayCore

/// The client's handshake fields the gateway requires, and the accept value it requires of the upstream.
final class WebSocketHandshakeTests: XCTestCase {
    private let key = "dGhlIHNhbXBsZSBub25jZQ=="

    func testTheAcceptOfRFC6455Section1_3() {
        let handshake = WebSocketHandshake(HTTPHeaders([("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", key)]))
        XCTAssertEqual(handshake?.key, key)
        XCTAssertEqual(handshake?.expectedAccept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func testOnlyOneVersion13AndOneSixteenByteKeyMakeAHandshake() {
        let version = ("Sec-WebSocket-Version", "13")
        let good = ("Sec-WebSocket-Key", key)
        let refused: [[(String, String)]] = [
            [good],
            [("Sec-WebSocket-Version", "8"), good],
            [("Sec-WebSocket-Version", "13, 8"), good],
            [version, version, good],
            [version],
            [version, good, good],
            // 15 and 17 bytes, not base64, padding missing.
            [version, ("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA")],
            [version, ("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==AAAA")],
            [version, ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ")],
            [version, ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j*Q==")],
            [version, ("Sec-WebSocket-Key", "")],
        ]
        for fields in refused {
            XCTAssertNil(WebSocketHandshake(HTTPHeaders(fields)), "\(fields)")
        }
        XCTAssertEqual(
            WebSocketHandshake(HTTPHeaders([("sec-websocket-version", " 13 "), ("SEC-WEBSOCKET-KEY", key)]))?.key, key)
    }
}
