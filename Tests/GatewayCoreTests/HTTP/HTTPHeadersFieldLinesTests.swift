import NIOHTTP1
import XCTest

@testable import GatewayCore

final class HTTPHeadersFieldLinesTests: XCTestCase {
    func testFirstValueAndLineCountIgnoringNameCase() {
        let headers = HTTPHeaders([("Host", "a.example"), ("X-Other", "1"), ("HOST", "b.example")])
        XCTAssertEqual(headers.fieldLines("host").first, "a.example")
        XCTAssertEqual(headers.fieldLines("host").count, 2)
        XCTAssertNil(headers.fieldLines("x-request-id").first)
        XCTAssertEqual(headers.fieldLines("x-request-id").count, 0)
    }

    func testEmptyAndCommaSeparatedLinesCountAsTheyAre() {
        // Unlike canonicalForm, an empty line is a line, and a comma does not make two.
        let headers = HTTPHeaders([("Authorization", "Bearer a, b"), ("authorization", "")])
        XCTAssertEqual(headers.fieldLines("authorization").first, "Bearer a, b")
        XCTAssertEqual(headers.fieldLines("authorization").count, 2)
    }
}
