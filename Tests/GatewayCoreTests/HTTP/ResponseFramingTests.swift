import NIOCore
import NIOHTTP1
import XCTest

@testable import GatewayCore

final class ResponseFramingTests: XCTestCase {
    func testStatusesWithoutABody() {
        for status in [100, 101, 199, 204, 304] {
            XCTAssertEqual(
                ResponseFraming(status: status, hasContentLength: true, version: .http1_1), .noBody, "\(status)")
        }
    }

    func testLengthThenChunksThenClose() {
        XCTAssertEqual(ResponseFraming(status: 200, hasContentLength: true, version: .http1_0), .contentLength)
        XCTAssertEqual(ResponseFraming(status: 200, hasContentLength: false, version: .http1_1), .chunked)
        XCTAssertEqual(ResponseFraming(status: 500, hasContentLength: false, version: .http1_0), .untilClose)
    }

    func testHeadWriterBytes() {
        var head = ResponseHeadWriter(version: .http1_1, status: 201, allocator: ByteBufferAllocator())
        head.add(name: "A", value: "1")
        var headers = HTTPHeaders()
        headers.add(name: "B", value: "")
        head.add(headers)
        XCTAssertEqual(String(buffer: head.finish()), "HTTP/1.1 201 Created\r\nA: 1\r\nB: \r\n\r\n")
        var other = ResponseHeadWriter(version: .http1_0, status: 404, allocator: ByteBufferAllocator(), capacity: 1)
        other.add(name: "X-Utf8", value: "é ü")
        XCTAssertEqual(
            Array(other.finish().readableBytesView), Array("HTTP/1.0 404 Not Found\r\nX-Utf8: é ü\r\n\r\n".utf8))
        XCTAssertEqual(
            String(
                buffer: ResponseHeadWriter.interim(version: .http1_1, status: 100, allocator: ByteBufferAllocator())),
            "HTTP/1.1 100 Continue\r\n\r\n")
    }
}
