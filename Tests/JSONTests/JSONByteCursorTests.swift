import XCTest

@testable import JSON

final class JSONByteCursorTests: XCTestCase {
    /// Text with no escapes (the fast path: one scan, one copy), every kind of escape, escapes at both ends, runs of
    /// escapes, non-ASCII next to escapes, and long runs on either side.
    private static let corpus = [
        "", "plain", "/api/users-1", "203.0.113.9", "\"", "\\", "\"\\\"", "a\"b\\c\nd\re\tf", "\u{7F}del stays",
        "end\\", "\"start", "héllo wörld", "中文路径", "emoji 🙂 and 👩‍👩‍👧", "e\u{301} combining", "\u{2028}\u{2029}",
        "mixed \u{1}中\"\u{1F}🙂\\", "\u{0}\u{0}", String(repeating: "long run without escapes ", count: 200),
        String(repeating: "long run ", count: 200) + "\n" + String(repeating: "中", count: 300),
        String(String.UnicodeScalarView((0..<0x80).map { Unicode.Scalar(UInt8($0)) })),
        String(repeating: "\u{1}", count: 1000),
    ]

    /// What the cursor wrote when given exactly `maximumLength` or `capacity` bytes of space.
    private func written(capacity: Int, _ write: (inout JSONByteCursor) -> Void) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.append(addingCapacity: capacity) { span in
            span.withUnsafeMutableBufferPointer { space, count in
                var cursor = JSONByteCursor(space)
                write(&cursor)
                count = cursor.count
            }
        }
        return bytes
    }

    func testStringsAreWrittenAsTheArrayWriterWritesThemWithTheirBoundAsSpace() {
        for text in Self.corpus {
            var expected: [UInt8] = []
            JSONByteWriter.appendString(text, to: &expected)

            let bytes = written(capacity: JSONByteCursor.maximumLength(ofString: text)) { $0.appendString(text) }

            XCTAssertEqual(bytes, expected, text.debugDescription)
        }
    }

    func testSubstringSliceIsWrittenWithoutTheRestOfItsString() {
        let target = "/a\"b\\c\u{1}d/中文?q=\"secret\""
        let path = target[..<target.firstIndex(of: "?")!]

        let bytes = written(capacity: JSONByteCursor.maximumLength(ofString: path)) { $0.appendString(path) }

        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), #""/a\"b\\c\u0001d/中文""#)
    }

    func testEscapesAreTheShortFormsAndLowercaseHex() {
        let text = "\"\\\n\r\t\u{0}\u{8}\u{C}\u{1B}\u{1F} /"

        let bytes = written(capacity: JSONByteCursor.maximumLength(ofString: text)) { $0.appendString(text) }

        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), #""\"\\\n\r\t\u0000\u0008\u000c\u001b\u001f /""#)
    }

    func testMembersAndNumbersAreWrittenAsTheArrayWriterWritesThem() {
        let values = [0, 1, 9, 10, 99, 100, 101, 999_999, 1_000_000, -1, -10, -205, Int.max, Int.min]
        var expected: [UInt8] = []
        for value in values {
            JSONByteWriter.appendMember(",\"n\":", value, to: &expected)
            JSONByteWriter.appendDigits(value.magnitude, to: &expected)
            JSONByteWriter.appendMember(",\"s\":", value == 0 ? nil : "v\(value)", to: &expected)
        }
        JSONByteWriter.appendRaw("}\n", to: &expected)

        let bytes = written(capacity: 4096) { cursor in
            for value in values {
                cursor.appendMember(",\"n\":", value)
                cursor.appendDigits(value.magnitude)
                cursor.appendMember(",\"s\":", value == 0 ? nil : "v\(value)")
            }
            cursor.appendRaw("}\n")
        }

        XCTAssertEqual(bytes, expected)
    }

    func testHexIsSixteenLowercaseDigits() {
        let bytes = written(capacity: 32) { cursor in
            cursor.appendHex(0x4bf9_2f35_77b3_4da6)
            cursor.appendHex(0x0000_0000_0000_00ab)
        }

        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "4bf92f3577b34da600000000000000ab")
    }

    func testNilStringNeedsNoSpace() {
        XCTAssertEqual(JSONByteCursor.maximumLength(ofString: String?.none), 0)
        XCTAssertEqual(written(capacity: 0) { $0.appendMember(",\"s\":", String?.none) }, [])
    }

    func testAppendKeepsWhatTheBufferHeldAndAddsOnlyWhatWasWritten() {
        var buffer = Array("previous line\n".utf8)
        for round in 0..<200 {
            // Reserving far more than is written, many times over: the buffer grows, and the unused space never shows.
            JSONByteCursor.append(to: &buffer, reserving: 4_096) { cursor in
                cursor.appendRaw("{\"n\":")
                cursor.appendInteger(round)
                cursor.appendRaw("}\n")
            }
        }
        let expected = "previous line\n" + (0..<200).map { "{\"n\":\($0)}\n" }.joined()
        XCTAssertEqual(String(decoding: buffer, as: UTF8.self), expected)

        JSONByteCursor.append(to: &buffer, reserving: 0) { _ in }
        XCTAssertEqual(String(decoding: buffer, as: UTF8.self), expected)
    }
}
