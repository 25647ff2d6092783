import GatewayCore
import XCTest

@testable import Engine

/// A control endpoint's answer as the engine writes it (issue 23).
final class ClientHeadWriterControlTests: XCTestCase {
    private func write(
        _ response: ControlResponse, isHead: Bool = false, closes: Bool = false, isHTTP10: Bool = false
    ) -> (text: String, status: Int, bodyBytes: Int) {
        var out: [UInt8] = []
        let (status, bytes) = ClientHeadWriter.writeControlAnswer(
            response, requestID: "req-1", isHead: isHead, closes: closes, isHTTP10: isHTTP10, into: &out)
        return (String(decoding: out, as: UTF8.self), status, bytes)
    }

    func testJSONAnswerHasItsFieldsLengthRequestIDAndDate() {
        let answer = write(.json(.ok, #"{"a":1}"#))
        XCTAssertTrue(answer.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        XCTAssertTrue(answer.text.contains("Content-Type: application/json; charset=utf-8\r\n"))
        XCTAssertTrue(answer.text.contains("Cache-Control: no-store\r\n"))
        XCTAssertTrue(answer.text.contains("Content-Length: 7\r\n"))
        XCTAssertTrue(answer.text.contains("X-Request-Id: req-1\r\n"))
        XCTAssertTrue(answer.text.contains("Date: "))
        XCTAssertFalse(answer.text.contains("Connection:"))
        XCTAssertTrue(answer.text.hasSuffix("\r\n\r\n{\"a\":1}"))
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.bodyBytes, 7)
    }

    func testHeadAnswerAnnouncesTheLengthWithoutABody() {
        let answer = write(.json(.ok, #"{"a":1}"#), isHead: true)
        XCTAssertTrue(answer.text.contains("Content-Length: 7\r\n"))
        XCTAssertTrue(answer.text.hasSuffix("\r\n\r\n"))
        XCTAssertEqual(answer.bodyBytes, 0)
    }

    func testAnEndpointsOwnLengthAndConnectionFieldsAreNotDoubled() {
        let response = ControlResponse(
            status: .ok, headers: [("Content-Length", "99"), ("Connection", "keep-alive")], body: "ok")
        let answer = write(response, closes: true)
        XCTAssertEqual(answer.text.components(separatedBy: "Content-Length").count, 2)
        XCTAssertTrue(answer.text.contains("Content-Length: 2\r\n"))
        XCTAssertTrue(answer.text.contains("Connection: close\r\n"))
        XCTAssertFalse(answer.text.contains("keep-alive"))
    }

    func testNoContentHasNoLengthNorBody() {
        let answer = write(ControlResponse(status: .noContent, body: "ignored"), isHTTP10: true)
        XCTAssertFalse(answer.text.contains("Content-Length"))
        XCTAssertTrue(answer.text.contains("Connection: keep-alive\r\n"))
        XCTAssertTrue(answer.text.hasSuffix("\r\n\r\n"))
    }
}
