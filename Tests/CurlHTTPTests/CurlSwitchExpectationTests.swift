import CurlHTTP
import XCTest

/// The checks of a 101 (RFC 9110 section 7.8, RFC 6455 section 4.1): the one protocol, `Connection: upgrade`, and
/// the exact proof fields.
final class CurlSwitchExpectationTests: XCTestCase {
    private let expectation = CurlSwitchExpectation(
        upgrade: "websocket", fields: [.init(name: "Sec-WebSocket-Accept", value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")])

    private func head(_ fields: [(String, String)]) -> CurlResponseHead {
        CurlResponseHead(status: 101, headers: fields.map { (name: $0.0, value: $0.1) }, version: "1.1")
    }

    func testAWebSocketSwitchWithTheRightAcceptIsTaken() {
        XCTAssertNil(
            expectation.mismatch(
                in: head([
                    ("upgrade", "WebSocket"), ("Connection", "keep-alive, Upgrade"),
                    ("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                ])))
    }

    func testEveryOtherSwitchIsRefused() {
        let accept = ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let refused: [[(String, String)]] = [
            [("Connection", "Upgrade"), accept],
            [("Upgrade", "h2c"), ("Connection", "Upgrade"), accept],
            [("Upgrade", "websocket, h2c"), ("Connection", "Upgrade"), accept],
            [("Upgrade", "websocket"), ("Upgrade", "websocket"), ("Connection", "Upgrade"), accept],
            [("Upgrade", "websocket"), accept],
            [("Upgrade", "websocket"), ("Connection", "close"), accept],
            [("Upgrade", "websocket"), ("Connection", "Upgrade")],
            [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", "wrong")],
            [("Upgrade", "websocket"), ("Connection", "Upgrade"), accept, accept],
        ]
        for fields in refused {
            XCTAssertNotNil(expectation.mismatch(in: head(fields)), "\(fields)")
        }
    }
}
