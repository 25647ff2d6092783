import XCTest

@testable import GatewayCore

final class RequestIDTests: XCTestCase {
    func testSaneClientRequestIdIsPassedThrough() {
        XCTAssertEqual(RequestID.accept("abc-123_DEF.4~"), "abc-123_DEF.4~")
        XCTAssertEqual(RequestID.accept("trace:span/1"), "trace:span/1")
        XCTAssertEqual(
            RequestID.accept(Substring(String(repeating: "a", count: 128))), String(repeating: "a", count: 128))
    }

    func testHostileClientRequestIdIsRefused() {
        XCTAssertNil(RequestID.accept(nil))
        XCTAssertNil(RequestID.accept(""))
        XCTAssertNil(RequestID.accept("has space"))
        XCTAssertNil(RequestID.accept("abc\r\nX-OpenId: forged"))
        XCTAssertNil(RequestID.accept("tab\there"))
        XCTAssertNil(RequestID.accept("quote\"here"))
        XCTAssertNil(RequestID.accept("semi;colon"))
        XCTAssertNil(RequestID.accept("naïve"))
        XCTAssertNil(RequestID.accept(Substring(String(repeating: "a", count: 129))))
    }

    func testGeneratedRequestIdIsThirtyTwoHexDigitsAndAcceptable() {
        let id = RequestID.generate()

        XCTAssertEqual(id.utf8.count, 32)
        XCTAssertTrue(id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        XCTAssertEqual(RequestID.accept(Substring(id)), id)
    }

    func testGeneratedRequestIdsDiffer() {
        XCTAssertNotEqual(RequestID.generate(), RequestID.generate())
    }

    func testGeneratedRequestIdsShareTheProcessPrefixAndCountUpInHex() throws {
        let first = RequestID.generate()
        let second = RequestID.generate()

        XCTAssertEqual(first.prefix(16), second.prefix(16))
        let firstCount = try XCTUnwrap(UInt64(first.dropFirst(16), radix: 16))
        XCTAssertEqual(UInt64(second.dropFirst(16), radix: 16), firstCount + 1)
    }
}
