import GatewayCore
import XCTest

@testable import Engine

/// What the worker reads from a head's fields in the parser's one pass (RequestHeadFields' rows, moved): body
/// framing, the transfer codings it refuses, `Expect: 100-continue`, and the Host rules the planner applies.
final class RequestHeadParserFieldsTests: XCTestCase {
    private enum Parsed: Equatable {
        case head(hasBody: Bool, length: Int?, continues: Bool, coded: Bool, refused: Bool)
        case invalid
    }

    private func parse(_ fields: [(String, String)], method: String = "POST") -> Parsed {
        var text = "\(method) /x HTTP/1.1\r\nHost: h\r\n"
        for (name, value) in fields { text += "\(name): \(value)\r\n" }
        let bytes = Array((text + "\r\n").utf8)
        return bytes.withUnsafeBytes { raw in
            let parser = RequestHeadParser()
            guard case .request = parser.parse(raw.baseAddress!, from: 0, count: raw.count) else { return .invalid }
            let head = parser.head
            return .head(
                hasBody: head.hasBody, length: head.bodyLength, continues: head.expectsContinue,
                coded: head.hasTransferEncoding, refused: head.transferCodingRefused)
        }
    }

    private func head(
        body: Bool = false, length: Int? = nil, continues: Bool = false, coded: Bool = false, refused: Bool = false
    ) -> Parsed {
        .head(hasBody: body, length: length, continues: continues, coded: coded, refused: refused)
    }

    func testOnePassFindsWhatTheWorkerNeeds() {
        XCTAssertEqual(
            parse([("x-request-id", "r1"), ("Content-Length", " 12 "), ("Expect", "100-Continue"), ("Accept", "*/*")]),
            head(body: true, length: 12, continues: true))
    }

    func testBodyFraming() {
        XCTAssertEqual(parse([]), head(length: 0))
        XCTAssertEqual(parse([("Content-Length", "0")]), head(length: 0))
        XCTAssertEqual(parse([("Content-Length", "x")]), .invalid)
        // RFC 9112 section 6.3: differing lengths are an unrecoverable framing error, not the first one's.
        XCTAssertEqual(parse([("Content-Length", "3"), ("Content-Length", "9")]), .invalid)
        XCTAssertEqual(parse([("Transfer-Encoding", "chunked")]), head(body: true, coded: true))
    }

    /// Read for a request with a body only (a bodiless one has nothing to continue with).
    func testExpectListsAreRead() {
        let length = [("Content-Length", "2")]
        XCTAssertEqual(parse(length + [("Expect", "foo, 100-continue")]), head(body: true, length: 2, continues: true))
        XCTAssertEqual(parse(length + [("Expect", " 100-CONTINUE ,")]), head(body: true, length: 2, continues: true))
        XCTAssertEqual(parse(length + [("Expect", "100-continue-ish")]), head(body: true, length: 2))
        XCTAssertEqual(parse(length + [("X-Expect", "100-continue")]), head(body: true, length: 2))
        XCTAssertEqual(parse([("Expect", "100-continue")], method: "GET"), head(length: 0))
    }

    func testOnlyOneChunkedIsASupportedTransferCoding() {
        func refused(_ fields: [(String, String)]) -> Bool {
            switch parse(fields) {
            case .head(_, _, _, _, let refused): return refused
            case .invalid: return true
            }
        }
        XCTAssertFalse(refused([("Transfer-Encoding", "chunked")]))
        XCTAssertFalse(refused([("transfer-encoding", " Chunked ")]))
        XCTAssertTrue(refused([("Transfer-Encoding", "gzip, chunked")]))
        XCTAssertTrue(refused([("Transfer-Encoding", "chunked, chunked")]))
        XCTAssertTrue(refused([("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked")]))
        XCTAssertTrue(refused([("Transfer-Encoding", "identity")]))
    }

    func testHostValuesThatNoURICouldCarryAreInvalid() {
        func valid(_ value: String) -> Bool {
            Array(value.utf8).withUnsafeBytes { HostField.isValid(bytes: $0) }
        }
        for value in ["a.example", "A.Example:8080", "127.0.0.1:1", "[::1]:443", "xn--fsq.example", ""] {
            XCTAssertTrue(valid(value), value)
        }
        for value in ["a b", "a/b", "a\\b", "user@a.example", "a.example?x", "a\tb", "\u{E4}.example", "a\"b"] {
            XCTAssertFalse(valid(value), value)
        }
    }
}
