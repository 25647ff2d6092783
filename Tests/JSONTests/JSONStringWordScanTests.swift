import XCTest

@testable import JSON

/// The access log's escaper looks for bytes to escape 8 at a time (`JSONString.hasByteToEscape`) before it copies
/// clean text in one go: these check that the word test and the byte-by-byte rules agree for every byte in every
/// position, and that `writeEscaped` writes what the array escaper (`appendEscaped`) appends for every length and
/// every position of the first escape, from aligned and unaligned starts.
final class JSONStringWordScanTests: XCTestCase {
    /// RFC 8259 section 7, byte by byte: the reference the word test must match.
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private static func referenceHasByteToEscape(_ word: UInt64) -> Bool {
        (0..<8).contains { needsEscape(UInt8(truncatingIfNeeded: word >> (8 * $0))) }
    }

    /// Bytes right next to the ones to escape, and the ones the subtraction borrows could be confused by.
    private static let fillers: [UInt8] = [
        0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x41, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0x9F, 0xA2, 0xDC, 0xFF,
    ]

    func testWordTestAgreesWithTheByteRulesForEveryByteInEveryPosition() {
        for filler in Self.fillers {
            for byte in UInt8.min...UInt8.max {
                for position in 0..<8 {
                    var word = UInt64(filler) &* 0x0101_0101_0101_0101
                    word &= ~(UInt64(0xFF) << (8 * position))
                    word |= UInt64(byte) << (8 * position)
                    XCTAssertEqual(
                        JSONString.hasByteToEscape(word), Self.needsEscape(byte) || Self.needsEscape(filler),
                        "byte \(byte) at \(position) among \(filler)")
                }
            }
        }
    }

    func testWordTestAgreesWithTheByteRulesForRandomWords() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200_000 {
            // Random bytes, and words of bytes drawn from the fillers, where matches and near misses are common.
            let random = UInt64.random(in: .min ... .max, using: &generator)
            var mixed: UInt64 = 0
            for position in 0..<8 {
                mixed |= UInt64(Self.fillers.randomElement(using: &generator)!) << (8 * position)
            }
            for word in [random, mixed] {
                XCTAssertEqual(JSONString.hasByteToEscape(word), Self.referenceHasByteToEscape(word), "\(word)")
            }
        }
    }

    /// What `writeEscaped` writes for `bytes`, starting `offset` bytes into its buffer (so its words are unaligned).
    private func writtenEscaped(_ bytes: [UInt8], offset: Int) -> [UInt8] {
        let padded = [UInt8](repeating: 0x41, count: offset) + bytes
        return padded.withUnsafeBufferPointer { padded in
            let input = UnsafeBufferPointer(rebasing: padded[offset...])
            let out = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count * 6 + 1)
            defer { out.deallocate() }
            let count = JSONString.writeEscaped(input, to: out)
            return Array(UnsafeBufferPointer(start: out, count: count))
        }
    }

    private func appendedEscaped(_ bytes: [UInt8]) -> [UInt8] {
        var expected: [UInt8] = []
        bytes.withUnsafeBufferPointer { JSONString.appendEscaped($0, to: &expected) }
        return expected
    }

    func testWriteEscapedMatchesTheArrayEscaperForEveryLengthAndFirstEscapePosition() {
        let texts: [UInt8] = [0x41, 0x80, 0xE4, 0x7F, 0x20, 0x5D]
        let escapes: [UInt8] = [0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x22, 0x5C]
        for length in 0...40 {
            for text in texts {
                let clean = [UInt8](repeating: text, count: length)
                for offset in 0..<8 {
                    XCTAssertEqual(writtenEscaped(clean, offset: offset), clean, "clean \(length) of \(text)")
                }
                for position in 0..<length {
                    for escape in escapes {
                        var bytes = clean
                        bytes[position] = escape
                        // A second escape after the first, where there is room: the rest is escaped too.
                        if position + 3 < length { bytes[position + 3] = 0x22 }
                        for offset in [0, 1, 7] {
                            XCTAssertEqual(
                                writtenEscaped(bytes, offset: offset), appendedEscaped(bytes),
                                "length \(length), \(escape) at \(position), offset \(offset)")
                        }
                    }
                }
            }
        }
    }

    func testWriteEscapedMatchesTheArrayEscaperForRandomText() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Self.fillers + Array("abc/-_.中🙂".utf8)
        for _ in 0..<5_000 {
            let length = Int.random(in: 0...200, using: &generator)
            // Mostly clean text: escapes one byte in 64 on average, so long clean runs meet word boundaries.
            let bytes = (0..<length).map { _ in
                Int.random(in: 0..<64, using: &generator) == 0
                    ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0x23...0x5B, using: &generator)
            }
            XCTAssertEqual(writtenEscaped(bytes, offset: length % 8), appendedEscaped(bytes), "\(bytes)")
        }
    }
}
