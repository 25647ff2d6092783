import XCTest

@testable import GatewayCore

final class HeaderNameTests: XCTestCase {
    func testTokenBitmasksMatchTheRule() {
        let token = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~".utf8)
        for byte in UInt8.min...UInt8.max {
            XCTAssertEqual(HeaderName.isTokenByte(byte), token.contains(byte), "byte \(byte)")
        }
    }

    func testNamesAndValues() {
        XCTAssertTrue(HeaderName.isValid("X-Request-Id"))
        XCTAssertFalse(HeaderName.isValid(""))
        XCTAssertFalse(HeaderName.isValid("X Y"))
        XCTAssertFalse(HeaderName.isValid("X:Y"))
        XCTAssertTrue(HeaderName.isValidValue("a\tb é"))
        XCTAssertFalse(HeaderName.isValidValue("a\rb"))
    }
}
