import XCTest

@testable import GatewayCore

/// The Host value's byte set, held to its list: the masks are written as constants.
final class HostFieldTests: XCTestCase {
    func testEveryByteIsAllowedExactlyWhenTheListHasIt() {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$%&'()*+,-.:;=[]_~".utf8)
        for byte in UInt8(0)...UInt8(255) {
            XCTAssertEqual(HostField.isAllowed(byte), allowed.contains(byte), "byte \(byte)")
            let value: [UInt8] = [UInt8(ascii: "a"), byte, UInt8(ascii: "b")]
            XCTAssertEqual(value.withUnsafeBytes { HostField.isValid(bytes: $0) }, allowed.contains(byte), "\(byte)")
        }
    }

    func testAnEmptyValueIsValid() {
        XCTAssertTrue(HostField.isValid(bytes: UnsafeRawBufferPointer(start: nil, count: 0)))
    }
}
