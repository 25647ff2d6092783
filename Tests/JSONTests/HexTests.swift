import XCTest

@testable import JSON

/// `Hex.write` computes each digit instead of looking it up in `Hex.digits`: it must write what the table (and
/// `String(_:radix:)`) writes, for every nibble in every position and for any value.
final class HexTests: XCTestCase {
    private func written(_ value: UInt64) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBufferPointer { Hex.write(value, into: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func expected(_ value: UInt64) -> String {
        let digits = String(value, radix: 16, uppercase: false)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    func testEveryNibbleInEveryPositionIsTheTablesDigit() {
        for position in 0..<16 {
            for nibble in UInt64(0)...15 {
                let value = nibble << (4 * UInt64(15 - position))
                let text = Array(written(value).utf8)
                XCTAssertEqual(text[position], Hex.digits[Int(nibble)], "nibble \(nibble) at \(position)")
                XCTAssertEqual(written(value), expected(value))
            }
        }
    }

    func testValuesAreWrittenAsSixteenLowercaseDigitsAsStringRadixWritesThem() {
        var values: [UInt64] = [0, 1, 9, 10, 15, 16, 0xabcdef, 0x0123_4567_89ab_cdef, .max, .max - 1, 1 << 63]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            values.append(UInt64.random(in: .min ... .max, using: &generator))
        }
        for value in values {
            XCTAssertEqual(written(value), expected(value), "\(value)")
        }
    }

    func testWritesOnlyItsSixteenBytes() {
        var bytes = [UInt8](repeating: 0xEE, count: 20)
        bytes.withUnsafeMutableBufferPointer { Hex.write(.max, into: UnsafeMutableBufferPointer(rebasing: $0[2..<18])) }
        XCTAssertEqual(bytes[..<2], [0xEE, 0xEE])
        XCTAssertEqual(bytes[18...], [0xEE, 0xEE])
        XCTAssertEqual(String(decoding: bytes[2..<18], as: UTF8.self), "ffffffffffffffff")
    }
}
