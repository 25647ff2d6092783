import XCTest

@testable import Engine

/// `UpstreamHead` reads libcurl's header lines one by one: the status code, and each field kept as spans.
final class UpstreamHeadTests: XCTestCase {
    private func status(_ line: String) -> Int {
        UpstreamHead.received([line], ended: false).status
    }

    func testStatusCodeIsTheThreeDigitsAfterTheFirstSpace() {
        XCTAssertEqual(status("HTTP/1.1 200 OK"), 200)
        XCTAssertEqual(status("HTTP/1.0 404 Not Found"), 404)
        XCTAssertEqual(status("HTTP/1.1 204"), 204)
        XCTAssertEqual(status("HTTP/1.1 2045 Long"), 204)
        XCTAssertEqual(status("HTTP/1.1 20"), 20)
        XCTAssertEqual(status("HTTP/1.1 2x0 Bad"), 0)
        XCTAssertEqual(status("HTTP/1.1"), 0)
        XCTAssertEqual(status("HTTP/1.1 "), 0)
        XCTAssertEqual(status("HTTP/2 500 Error"), 500)
    }

    func testFieldsAreTrimmedAndKeptAsSpansIntoTheLines() {
        let head = UpstreamHead.received([
            "HTTP/1.1 200 OK", "Content-Length: \t 5 \t", "x-request-id:abc", "Empty:", "No colon here",
        ])
        XCTAssertTrue(head.isComplete)
        let fields = head.bytes.withUnsafeBytes { buffer in
            head.fields.map { field in
                (
                    String(decoding: field.name.bytes(in: buffer.baseAddress!), as: UTF8.self),
                    String(decoding: field.value.bytes(in: buffer.baseAddress!), as: UTF8.self), field.rule
                )
            }
        }
        XCTAssertEqual(fields.map(\.0), ["Content-Length", "x-request-id", "Empty"])
        XCTAssertEqual(fields.map(\.1), ["5", "abc", ""])
        XCTAssertEqual(fields.map(\.2), [.contentLength, .requestID, .pass])
    }
}
