import Foundation
import Tokens
import XCTest

@testable import GatewayCore

final class JSONStringTests: XCTestCase {
    private func roundTrip(_ text: String) throws -> String? {
        let json = "[\"\(JSONString.escape(text))\"]"
        return (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String])?.first
    }

    func testPlainTextIsUnchanged() {
        XCTAssertEqual(JSONString.escape("/api/users-1"), "/api/users-1")
    }

    func testQuotesBackslashesAndControlCharactersRoundTrip() throws {
        let hostile = "a\"b\\c\nd\re\tf\u{0}g\u{1F}h\u{7F}"

        XCTAssertEqual(try roundTrip(hostile), hostile)
    }

    func testNonASCIIRoundTrips() throws {
        XCTAssertEqual(try roundTrip("用户 naïve 😀"), "用户 naïve 😀")
    }

    func testControlCharacterUsesFourHexDigits() {
        XCTAssertEqual(JSONString.escape("\u{1}"), "\\u0001")
        XCTAssertEqual(JSONString.escape("\u{1B}"), "\\u001b")
    }
}
