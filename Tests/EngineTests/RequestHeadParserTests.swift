import XCTest

@testable import Engine

/// llhttp through `RequestHeadParser`: heads recorded as spans into the caller's buffer, one request at a time.
final class RequestHeadParserTests: XCTestCase {
    private func withBuffer<T>(_ text: String, _ body: (UnsafeRawPointer, Int) -> T) -> T {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { body($0.baseAddress!, $0.count) }
    }

    private func text(_ span: ByteSpan, _ buffer: UnsafeRawPointer) -> String {
        String(decoding: span.bytes(in: buffer), as: UTF8.self)
    }

    func testHeadIsRecordedAsSpansAndTheParserStopsAfterTheRequest() {
        let parser = RequestHeadParser()
        let first = "GET /api/x?a=1 HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nAuthorization: Bearer t  \r\n\r\n"
        withBuffer(first + "GET /next HTTP/1.1\r\n\r\n") { buffer, count in
            XCTAssertEqual(parser.parse(buffer, from: 0, count: count), .request(consumed: first.utf8.count))
            let head = parser.head
            XCTAssertEqual(head.method, "GET")
            XCTAssertEqual(text(head.target, buffer), "/api/x?a=1")
            XCTAssertEqual(head.fields.map { text($0.name, buffer) }, ["Host", "X-Empty", "Authorization"])
            XCTAssertEqual(head.fields.map { text($0.value, buffer) }, ["h", "", "Bearer t"])
            XCTAssertTrue(head.keepAlive)
            XCTAssertFalse(head.hasBody)
            // The pipelined request is parsed when asked for, after the first was answered.
            let rest = first.utf8.count
            XCTAssertEqual(parser.parse(buffer, from: rest, count: count - rest), .request(consumed: count - rest))
            XCTAssertEqual(text(parser.head.target, buffer), "/next")
        }
    }

    func testHeadSplitOverTwoReadsIsJoined() {
        let parser = RequestHeadParser()
        let whole = "GET /p HTTP/1.1\r\nX-Long-Name: long value\r\n\r\n"
        withBuffer(whole) { buffer, count in
            let cut = whole.utf8.count - 14
            XCTAssertEqual(parser.parse(buffer, from: 0, count: cut), .needMore)
            XCTAssertEqual(parser.parse(buffer, from: cut, count: count - cut), .request(consumed: count - cut))
            XCTAssertEqual(text(parser.head.fields[0].name, buffer), "X-Long-Name")
            XCTAssertEqual(text(parser.head.fields[0].value, buffer), "long value")
        }
    }

    func testHTTP10AndConnectionCloseAreNotKeptAlive() {
        let parser = RequestHeadParser()
        withBuffer("HEAD / HTTP/1.0\r\n\r\n") { buffer, count in
            XCTAssertEqual(parser.parse(buffer, from: 0, count: count), .request(consumed: count))
            XCTAssertEqual(parser.head.method, "HEAD")
            XCTAssertTrue(parser.head.isHTTP10)
            XCTAssertFalse(parser.head.keepAlive)
        }
        let closing = RequestHeadParser()
        withBuffer("GET / HTTP/1.1\r\nConnection: close\r\n\r\n") { buffer, count in
            XCTAssertEqual(closing.parse(buffer, from: 0, count: count), .request(consumed: count))
            XCTAssertFalse(closing.head.keepAlive)
        }
    }

    func testRequestWithBodyStopsAtItsHead() {
        let parser = RequestHeadParser()
        let head = "POST /u HTTP/1.1\r\nContent-Length: 3\r\n\r\n"
        withBuffer(head + "abc") { buffer, count in
            XCTAssertEqual(parser.parse(buffer, from: 0, count: count), .request(consumed: head.utf8.count))
            XCTAssertTrue(parser.head.hasBody)
        }
    }

    func testGarbageIsInvalid() {
        let parser = RequestHeadParser()
        withBuffer("GET / HTTP/1.1\r\nBad Header\r\n\r\n") { buffer, count in
            XCTAssertEqual(parser.parse(buffer, from: 0, count: count), .invalid)
        }
    }
}
