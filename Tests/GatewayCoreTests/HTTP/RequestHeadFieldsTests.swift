import NIOHTTP1
import XCTest

@testable import GatewayCore

final class RequestHeadFieldsTests: XCTestCase {
    func testOnePassFindsWhatTheProxyNeeds() {
        let fields = RequestHeadFields(
            HTTPHeaders([
                ("HOST", "a.example"), ("x-request-id", "r1"), ("Content-Length", " 12 "), ("Expect", "100-Continue"),
                ("Accept", "*/*"),
            ]))
        XCTAssertEqual(fields.host, "a.example")
        XCTAssertEqual(fields.hostCount, 1)
        XCTAssertEqual(fields.requestID, "r1")
        XCTAssertEqual(fields.requestIDCount, 1)
        XCTAssertEqual(fields.contentLength, 12)
        XCTAssertTrue(fields.expectsContinue)
        XCTAssertFalse(fields.hasTransferCoding)
        XCTAssertTrue(fields.hasBody)
        XCTAssertEqual(fields.byteCount, (4 + 9 + 4) + (12 + 2 + 4) + (14 + 4 + 4) + (6 + 12 + 4) + (6 + 3 + 4))
    }

    func testWholeLinesAreCounted() {
        let fields = RequestHeadFields(
            HTTPHeaders([("Host", "a"), ("host", ""), ("X-Request-Id", "1"), ("x-request-id", "2")]))
        XCTAssertEqual(fields.hostCount, 2)
        XCTAssertEqual(fields.host, "a")
        XCTAssertEqual(fields.requestIDCount, 2)
        XCTAssertEqual(fields.requestID, "1")
    }

    func testBodyFraming() {
        XCTAssertFalse(RequestHeadFields(HTTPHeaders()).hasBody)
        XCTAssertFalse(RequestHeadFields(HTTPHeaders([("Content-Length", "0")])).hasBody)
        XCTAssertNil(RequestHeadFields(HTTPHeaders([("Content-Length", "x")])).contentLength)
        XCTAssertEqual(RequestHeadFields(HTTPHeaders([("Content-Length", ", 7, 7")])).contentLength, 7)
        XCTAssertEqual(
            RequestHeadFields(HTTPHeaders([("Content-Length", "3"), ("Content-Length", "9")])).contentLength, 3)
        XCTAssertTrue(RequestHeadFields(HTTPHeaders([("Transfer-Encoding", "chunked")])).hasBody)
        XCTAssertFalse(RequestHeadFields(HTTPHeaders([("Transfer-Encoding", " , ")])).hasBody)
    }

    func testExpectListsAreRead() {
        XCTAssertTrue(RequestHeadFields(HTTPHeaders([("Expect", "foo, 100-continue")])).expectsContinue)
        XCTAssertFalse(RequestHeadFields(HTTPHeaders([("Expect", "100-continue-ish")])).expectsContinue)
        XCTAssertFalse(RequestHeadFields(HTTPHeaders([("X-Expect", "100-continue")])).expectsContinue)
    }

    func testOnlyOneChunkedIsASupportedTransferCoding() {
        func unsupported(_ lines: [(String, String)]) -> Bool {
            RequestHeadFields(HTTPHeaders(lines)).hasUnsupportedTransferCoding
        }
        XCTAssertFalse(unsupported([]))
        XCTAssertFalse(unsupported([("Transfer-Encoding", "chunked")]))
        XCTAssertFalse(unsupported([("transfer-encoding", " Chunked ")]))
        XCTAssertTrue(unsupported([("Transfer-Encoding", "gzip, chunked")]))
        XCTAssertTrue(unsupported([("Transfer-Encoding", "chunked, chunked")]))
        XCTAssertTrue(unsupported([("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked")]))
        XCTAssertTrue(unsupported([("Transfer-Encoding", "identity")]))
        XCTAssertTrue(RequestHeadFields(HTTPHeaders([("Transfer-Encoding", "gzip, chunked")])).hasBody)
    }

    func testHostValuesThatNoURICouldCarryAreInvalid() {
        for valid in ["a.example", "A.Example:8080", "127.0.0.1:1", "[::1]:443", "xn--fsq.example", ""] {
            XCTAssertTrue(HostField.isValid(valid), valid)
        }
        for invalid in ["a b", "a/b", "a\\b", "user@a.example", "a.example?x", "a\tb", "\u{E4}.example", "a\"b"] {
            XCTAssertFalse(HostField.isValid(invalid), invalid)
        }
    }
}
