import Foundation
import XCTest

@testable import JSON

final class JSONStringTests: XCTestCase {
    /// Text covering every rule, several escapes in a row, escapes at both ends and multi-byte UTF-8 next to escapes.
    private static let corpus = [
        "", "plain", "/api/users-1", "\"", "\\", "\"\\\"", "a\"b\\c\nd\re\tf", "\u{7F}del stays", "end\\", "\"start",
        "héllo wörld", "中文路径", "emoji 🙂 and 👩‍👩‍👧", "e\u{301} combining", "\u{2028}\u{2029} separators",
        "mixed \u{1}中\"\u{1F}🙂\\", "\u{0}\u{0}", String(repeating: "long run without escapes ", count: 20) + "\n",
        String(String.UnicodeScalarView((0..<0x80).map { Unicode.Scalar(UInt8($0)) })),
    ]

    /// `escape(_:)` as it was written before the byte escaper existed, scalar by scalar, kept as the reference both
    /// escapers must match byte for byte: tokens, error bodies and log lines consumers already parse depend on it.
    private static func scalarByScalarEscape(_ value: some StringProtocol) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private func escapedBytes(_ value: some StringProtocol) -> [UInt8] {
        var buffer: [UInt8] = []
        JSONString.escape(value, into: &buffer)
        return buffer
    }

    private func roundTrip(_ text: String) throws -> String? {
        let json = "[\"\(JSONString.escape(text))\"]"
        return (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String])?.first
    }

    // MARK: - escape(_:) -> String

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

    func testStringEscapeMatchesTheScalarByScalarEscapeItReplaced() {
        for text in Self.corpus {
            XCTAssertEqual(JSONString.escape(text), Self.scalarByScalarEscape(text), text.debugDescription)
        }
    }

    func testQuotedWrapsTheEscapedText() {
        XCTAssertEqual(JSONString.quoted("a\"b"), "\"a\\\"b\"")
    }

    // MARK: - escape(_:into:)

    func testByteEscaperEscapesQuotesAndBackslashes() {
        XCTAssertEqual(escapedBytes("\""), Array("\\\"".utf8))
        XCTAssertEqual(escapedBytes("\\"), Array("\\\\".utf8))
        XCTAssertEqual(escapedBytes("a\"b\\\\c\"\""), Array("a\\\"b\\\\\\\\c\\\"\\\"".utf8))
    }

    func testByteEscaperWritesEveryControlCharacterAsRFC8259Requires() {
        let shortForms: [UInt8: String] = [0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"]
        let hexDigits = Array("0123456789abcdef")
        for byte in UInt8(0)..<0x20 {
            let expected = shortForms[byte] ?? "\\u00\(hexDigits[Int(byte >> 4)])\(hexDigits[Int(byte & 0x0F)])"

            XCTAssertEqual(escapedBytes(String(Unicode.Scalar(byte))), Array(expected.utf8), "byte \(byte)")
        }
        XCTAssertEqual(escapedBytes("\u{0}"), Array("\\u0000".utf8))
        XCTAssertEqual(escapedBytes("\u{8}\u{C}"), Array("\\u0008\\u000c".utf8))
        XCTAssertEqual(escapedBytes("\u{1B}[0m"), Array("\\u001b[0m".utf8))
        XCTAssertEqual(escapedBytes("\u{1F}"), Array("\\u001f".utf8))
    }

    func testByteEscaperLeavesDELAndOtherPrintableASCIIAsIs() {
        XCTAssertEqual(escapedBytes("\u{7F}"), [0x7F])
        let printable = String(String.UnicodeScalarView((0x20..<0x80).map { Unicode.Scalar(UInt8($0)) }))
            .filter { $0 != "\"" && $0 != "\\" }

        XCTAssertEqual(escapedBytes(printable), Array(printable.utf8))
    }

    func testByteEscaperCopiesNonASCIIByteForByte() {
        let text = "héllo 中文 🙂 👩‍👩‍👧 e\u{301} \u{2028}\u{80}\u{10FFFF}"

        XCTAssertEqual(escapedBytes(text), Array(text.utf8))
        XCTAssertEqual(escapedBytes("中\"文\n"), Array("中\\\"文\\n".utf8))
    }

    func testByteEscaperEscapesOnlyTheSubstringNotTheStringAroundIt() {
        let target = "GET /a\"b\\c\u{1}d/中文?q=\"secret\"\n"
        let path = target[target.firstIndex(of: "/")!..<target.firstIndex(of: "?")!]

        XCTAssertEqual(escapedBytes(path), Array("/a\\\"b\\\\c\\u0001d/中文".utf8))
        XCTAssertEqual(JSONString.escape(path), "/a\\\"b\\\\c\\u0001d/中文")
    }

    func testByteEscaperAppendsAfterWhatTheBufferAlreadyHolds() {
        var buffer = Array("{\"path\":\"".utf8)

        JSONString.escape("/a\nb", into: &buffer)

        XCTAssertEqual(buffer, Array("{\"path\":\"/a\\nb".utf8))
    }

    func testByteEscaperWritesWhatStringEscapeReturns() {
        for text in Self.corpus {
            XCTAssertEqual(escapedBytes(text), Array(JSONString.escape(text).utf8), text.debugDescription)
            XCTAssertEqual(escapedBytes(text), Array(Self.scalarByScalarEscape(text).utf8), text.debugDescription)
            let slice = text.dropFirst().dropLast()
            XCTAssertEqual(escapedBytes(slice), Array(Self.scalarByScalarEscape(slice).utf8), text.debugDescription)
        }
    }

    func testByteEscapedTextParsesBackAsAJSONString() throws {
        for text in Self.corpus {
            let json = Array("[\"".utf8) + escapedBytes(text) + Array("\"]".utf8)

            let parsed = try JSONSerialization.jsonObject(with: Data(json)) as? [String]

            XCTAssertEqual(parsed, [text], text.debugDescription)
        }
    }
}
