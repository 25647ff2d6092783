import XCTest

@testable import SmallHTTP

final class HTTPDateTests: XCTestCase {
    func testIMFFixdate() {
        // RFC 9110 section 5.6.7's own example.
        XCTAssertEqual(HTTPDate.format(secondsSinceEpoch: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDate.format(secondsSinceEpoch: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(secondsSinceEpoch: 1_798_761_599), "Thu, 31 Dec 2026 23:59:59 GMT")
    }

    func testNowIsTodayInThatForm() {
        let text = HTTPDate.now()
        XCTAssertEqual(text.count, 29, text)
        XCTAssertTrue(text.hasSuffix(" GMT"), text)
    }
}
