import XCTest

@testable import Engine

/// Request bodies through `RequestHeadParser.parseBody`: llhttp's framing removed, the content gathered in place in
/// the caller's buffer, and the request after the body left for the next head.
final class RequestBodyParserTests: XCTestCase {
    private func withBuffer<T>(_ text: String, _ body: (UnsafeMutableRawPointer, Int) -> T) -> T {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { body($0.baseAddress!, $0.count) }
    }

    private func text(_ buffer: UnsafeMutableRawPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(start: buffer + range.lowerBound, count: range.count), as: UTF8.self)
    }

    func testLengthBodyOverTwoReadsEndsWhereThePipelinedRequestStarts() {
        let parser = RequestHeadParser()
        let head = "POST /u HTTP/1.1\r\nContent-Length: 10\r\n\r\n"
        let next = "GET /next HTTP/1.1\r\n\r\n"
        withBuffer(head + "01234" + "56789" + next) { buffer, count in
            let start = head.utf8.count
            XCTAssertEqual(parser.parse(buffer, from: 0, count: count), .request(consumed: start))
            XCTAssertEqual(parser.head.bodyLength, 10)
            var bodyEnd = start
            XCTAssertEqual(parser.parseBody(buffer, from: start, count: 5, bodyEnd: &bodyEnd), .needMore)
            XCTAssertEqual(bodyEnd, start + 5)
            let rest = count - start - 5
            XCTAssertEqual(
                parser.parseBody(buffer, from: start + 5, count: rest, bodyEnd: &bodyEnd), .ended(consumed: 5))
            XCTAssertEqual(text(buffer, start..<bodyEnd), "0123456789")
            XCTAssertEqual(
                parser.parse(buffer, from: start + 10, count: next.utf8.count), .request(consumed: next.utf8.count))
            XCTAssertEqual(parser.head.method, "GET")
        }
    }

    func testChunkedBodyIsGatheredContiguousWithoutExtensionsOrTrailers() {
        let parser = RequestHeadParser()
        let head = "POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        let framed = "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        withBuffer(head + framed) { buffer, count in
            let start = head.utf8.count
            XCTAssertEqual(parser.parse(buffer, from: 0, count: count), .request(consumed: start))
            XCTAssertNil(parser.head.bodyLength)
            XCTAssertTrue(parser.head.hasBody)
            XCTAssertFalse(parser.head.transferCodingRefused)
            var bodyEnd = start
            XCTAssertEqual(
                parser.parseBody(buffer, from: start, count: count - start, bodyEnd: &bodyEnd),
                .ended(consumed: count - start))
            XCTAssertEqual(text(buffer, start..<bodyEnd), "hello world")
            XCTAssertEqual(parser.head.fields.count, 2, "a trailer is not a field of the head")
        }
    }

    func testExpectAndTransferCodingsAreReadForBodies() {
        let parser = RequestHeadParser()
        withBuffer("PUT /u HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx") { buffer, count in
            _ = parser.parse(buffer, from: 0, count: count)
            XCTAssertTrue(parser.head.expectsContinue)
            XCTAssertFalse(parser.head.hasTransferEncoding)
        }
        let gzip = RequestHeadParser()
        withBuffer("POST /u HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n") { buffer, count in
            _ = gzip.parse(buffer, from: 0, count: count)
            XCTAssertTrue(gzip.head.transferCodingRefused)
        }
        let twice = RequestHeadParser()
        withBuffer("POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") {
            // Refused one way or the other: llhttp may stop at it (400), or the head is marked (501).
            let outcome = twice.parse($0, from: 0, count: $1)
            XCTAssertTrue(outcome == .invalid || twice.head.transferCodingRefused, "\(outcome)")
        }
    }

    func testBrokenChunkFramingIsInvalid() {
        let parser = RequestHeadParser()
        let head = "POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        withBuffer(head + "zz\r\nhello\r\n") { buffer, count in
            let start = head.utf8.count
            _ = parser.parse(buffer, from: 0, count: count)
            var bodyEnd = start
            XCTAssertEqual(parser.parseBody(buffer, from: start, count: count - start, bodyEnd: &bodyEnd), .invalid)
        }
    }

    func testLengthAndChunkedTogetherAreInvalid() {
        // RFC 9112 section 6.1: the sign of request smuggling; llhttp refuses it, and the worker answers 400.
        let parser = RequestHeadParser()
        withBuffer("POST /u HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n") { buffer, count in
            XCTAssertEqual(parser.parse(buffer, from: 0, count: count), .invalid)
        }
    }
}
