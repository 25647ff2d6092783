import Foundation
import XCTest

@testable import JSON

final class JSONObjectWriterTests: XCTestCase {
    func testAnEmptyObject() {
        XCTAssertEqual(JSONObjectWriter().text, "{}")
    }

    func testMembersKeepTheirOrderAndValuesAreEscaped() {
        var object = JSONObjectWriter()
        object.member("access_token", "a.b.c")
        object.member("expires_in", 900)
        object.member("openid", "o\"\\\n中")
        object.member("unionid", ifPresent: nil)
        object.member("scope", ifPresent: "x")
        object.member("delta", -3)
        XCTAssertEqual(
            object.text,
            #"{"access_token":"a.b.c","expires_in":900,"openid":"o\"\\\n中","scope":"x","delta":-3}"#)
    }

    func testTheTextIsWhatAJSONReaderReadsBack() throws {
        var object = JSONObjectWriter()
        object.member("error", "invalid_request")
        object.member("error_description", "a \"quoted\"\nline\u{1}")
        let read = try JSONSerialization.jsonObject(with: Data(object.text.utf8)) as? [String: String]
        XCTAssertEqual(read, ["error": "invalid_request", "error_description": "a \"quoted\"\nline\u{1}"])
    }
}
