import JSON
import XCTest

@testable import WeChat

/// Reading jscode2session's answer: the ids become header lines upstream, so anything that could not be a
/// header value is a broken answer.
final class Code2SessionAnswerTests: XCTestCase {
    private func answer(openid: String = "oAbC123", unionid: String? = nil) -> JSONValue {
        var members: [String: JSONValue] = [
            "openid": .string(openid), "session_key": .string("c2Vzc2lvbmtleTEyMzQ1Ng=="),
        ]
        if let unionid { members["unionid"] = .string(unionid) }
        return .object(members)
    }

    func testUnionIDThatCouldNotBeAHeaderValueIsAMalformedAnswer() {
        for unionid in ["u\r\nX-Admin: 1", "u\n", "u\tv", "u\u{0}", "u\u{1F}", "u\u{7F}", "u v", "ü"] {
            XCTAssertThrowsError(try Code2SessionResult(answer: answer(unionid: unionid)), unionid.debugDescription) {
                guard case .malformedAnswer = $0 as? WeChatError else { return XCTFail("got \($0)") }
            }
        }
    }

    func testOpenIDWithAnyControlCharacterIsAMalformedAnswer() {
        for openid in ["o\r", "o\u{8}", "o\u{7F}x", String(repeating: "o", count: 129)] {
            XCTAssertThrowsError(try Code2SessionResult(answer: answer(openid: openid))) {
                guard case .malformedAnswer = $0 as? WeChatError else { return XCTFail("got \($0)") }
            }
        }
    }

    func testWellFormedAnswerIsRead() throws {
        let result = try Code2SessionResult(answer: answer(unionid: "o6_bmasdasdsad6_2sgVt7hMZOPfL"))
        XCTAssertEqual(result.openID, "oAbC123")
        XCTAssertEqual(result.unionID, "o6_bmasdasdsad6_2sgVt7hMZOPfL")
    }

    func testMissingOpenIDIsUnavailable() {
        XCTAssertThrowsError(try Code2SessionResult(answer: .object(["session_key": .string("k")]))) {
            guard case .unavailable = $0 as? WeChatError else { return XCTFail("got \($0)") }
        }
    }
}
