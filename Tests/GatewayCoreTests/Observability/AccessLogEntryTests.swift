import Foundation
import JSON
import Tokens
import XCTest

@testable import GatewayCore

final class AccessLogEntryTests: XCTestCase {
    private func parse(_ line: String) throws -> [String: Any] {
        XCTAssertTrue(line.hasSuffix("\n"))
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1, "one line per request")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    func testFullEntryParsesBackWithEveryField() throws {
        var entry = AccessLogEntry(
            time: Date(timeIntervalSince1970: 1_700_000_000.25), requestID: "req-1", clientAddress: "203.0.113.9",
            method: "POST", path: "/api/orders")
        entry.route = "/api/"
        entry.status = 201
        entry.bytesIn = 12
        entry.bytesOut = 345
        entry.durationSeconds = 0.0125
        entry.upstream = "http://127.0.0.1:9001"
        entry.upstreamSeconds = 0.01
        entry.openid = "o-user"

        let object = try parse(entry.jsonLine())

        XCTAssertEqual(object["time"] as? String, "2023-11-14T22:13:20.250Z")
        XCTAssertEqual(object["request_id"] as? String, "req-1")
        XCTAssertEqual(object["client"] as? String, "203.0.113.9")
        XCTAssertEqual(object["method"] as? String, "POST")
        XCTAssertEqual(object["path"] as? String, "/api/orders")
        XCTAssertEqual(object["route"] as? String, "/api/")
        XCTAssertEqual(object["status"] as? Int, 201)
        XCTAssertEqual(object["bytes_in"] as? Int, 12)
        XCTAssertEqual(object["bytes_out"] as? Int, 345)
        XCTAssertEqual(try XCTUnwrap(object["duration_ms"] as? Double), 12.5, accuracy: 0.001)
        XCTAssertEqual(object["upstream"] as? String, "http://127.0.0.1:9001")
        XCTAssertEqual(try XCTUnwrap(object["upstream_ms"] as? Double), 10, accuracy: 0.001)
        XCTAssertEqual(object["openid"] as? String, "o-user")
        XCTAssertNil(object["error"])
    }

    func testMinimalEntryOmitsAbsentFields() throws {
        let entry = AccessLogEntry(
            time: Date(timeIntervalSince1970: 0), requestID: "r", clientAddress: nil, method: "GET", path: "/")

        let object = try parse(entry.jsonLine())

        XCTAssertEqual(object["time"] as? String, "1970-01-01T00:00:00.000Z")
        for key in ["client", "route", "upstream", "upstream_ms", "openid", "error"] {
            XCTAssertNil(object[key], key)
        }
    }

    func testHostileFieldsStayOneParseableLine() throws {
        var entry = AccessLogEntry(
            time: Date(timeIntervalSince1970: 1), requestID: "r\"\n{", clientAddress: nil, method: "G\\ET",
            path: "/a\"b\r\nc")
        entry.error = "bad\u{1}thing"

        let object = try parse(entry.jsonLine())

        XCTAssertEqual(object["request_id"] as? String, "r\"\n{")
        XCTAssertEqual(object["method"] as? String, "G\\ET")
        XCTAssertEqual(object["path"] as? String, "/a\"b\r\nc")
        XCTAssertEqual(object["error"] as? String, "bad\u{1}thing")
    }

    func testRejectedRequestLogNeverContainsAuthorizationValue() throws {
        // Built the way the proxy builds it for a rejected bearer token: the reason, never the credentials.
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvIn0.c2lnbmF0dXJl"
        var entry = AccessLogEntry(
            time: Date(timeIntervalSince1970: 1), requestID: "r", clientAddress: "198.51.100.1", method: "GET",
            path: RequestTarget("/api/me?access_token=\(token)")!.path)
        let error = GatewayError.authentication(.invalidToken(.badSignature))
        entry.status = Int(error.status.code)
        entry.error = AuthRejection.invalidToken(.badSignature).reason

        let line = entry.jsonLine()

        XCTAssertFalse(line.contains(token))
        XCTAssertFalse(line.contains("Bearer"))
        XCTAssertFalse(line.contains("eyJ"))
        XCTAssertEqual(try parse(line)["path"] as? String, "/api/me")
    }

    // MARK: - The byte writer writes exactly the line the String-built version wrote

    /// The line as `jsonLine()` built it from Strings before the byte writer; kept here as the reference the byte
    /// writer must match byte for byte, since log consumers parse this format.
    private static func stringBuiltLine(_ entry: AccessLogEntry) -> String {
        func milliseconds(_ seconds: Double) -> String {
            guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "0" }
            return String(Double(Int((seconds * 1000 * 1000).rounded())) / 1000)
        }
        var line = "{\"time\":\"\(ReferenceTimestamp.text(entry.time))\""
        line += ",\"request_id\":\"\(JSONString.escape(entry.requestID))\""
        if let clientAddress = entry.clientAddress { line += ",\"client\":\"\(JSONString.escape(clientAddress))\"" }
        line += ",\"method\":\"\(JSONString.escape(entry.method))\",\"path\":\"\(JSONString.escape(entry.path))\""
        if let route = entry.route { line += ",\"route\":\"\(JSONString.escape(route))\"" }
        line += ",\"status\":\(entry.status),\"bytes_in\":\(entry.bytesIn),\"bytes_out\":\(entry.bytesOut)"
        line += ",\"duration_ms\":\(milliseconds(entry.durationSeconds))"
        if let upstream = entry.upstream { line += ",\"upstream\":\"\(JSONString.escape(upstream))\"" }
        if let upstreamSeconds = entry.upstreamSeconds {
            line += ",\"upstream_ms\":\(milliseconds(upstreamSeconds))"
        }
        if let openid = entry.openid { line += ",\"openid\":\"\(JSONString.escape(openid))\"" }
        if let error = entry.error { line += ",\"error\":\"\(JSONString.escape(error))\"" }
        line += "}\n"
        return line
    }

    /// Asserts that `write(into:)`, appending to bytes already in the buffer, and `jsonLine()` both give the
    /// String-built line.
    private func assertMatchesStringBuiltLine(
        _ entry: AccessLogEntry, _ message: @autoclosure () -> String = "", file: StaticString = #filePath,
        line: UInt = #line
    ) {
        let expected = Self.stringBuiltLine(entry)
        var buffer = Array("previous line\n".utf8)
        entry.write(into: &buffer)
        XCTAssertEqual(buffer, Array("previous line\n".utf8) + Array(expected.utf8), message(), file: file, line: line)
        XCTAssertEqual(entry.jsonLine(), expected, message(), file: file, line: line)
    }

    private func entry(durationSeconds: Double) -> AccessLogEntry {
        var entry = AccessLogEntry(
            time: Date(timeIntervalSince1970: 1_700_000_000.25), requestID: "r", clientAddress: nil, method: "GET",
            path: "/")
        entry.durationSeconds = durationSeconds
        entry.upstreamSeconds = durationSeconds
        return entry
    }

    func testByteWriterMatchesStringBuiltLineForEveryCombinationOfOptionalFields() {
        for mask in 0..<64 {
            var entry = AccessLogEntry(
                time: Date(timeIntervalSince1970: 1_700_000_000.25), requestID: "req-1",
                clientAddress: mask & 1 != 0 ? "203.0.113.9" : nil, method: "POST", path: "/api/orders")
            entry.status = 201
            entry.bytesIn = 12
            entry.bytesOut = 345_678
            entry.durationSeconds = 0.0125
            if mask & 2 != 0 { entry.route = "/api/" }
            if mask & 4 != 0 { entry.upstream = "http://127.0.0.1:9001" }
            if mask & 8 != 0 { entry.upstreamSeconds = 0.054503 }
            if mask & 16 != 0 { entry.openid = "o-user" }
            if mask & 32 != 0 { entry.error = "upstream timed out" }

            assertMatchesStringBuiltLine(entry, "optional fields mask \(mask)")
        }
    }

    func testByteWriterEscapesExactlyAsJSONStringEscape() {
        let controls = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        let texts = [
            "", "plain", "\"", "\\", "\"\\\"", "a\"b\\c\nd\re\tf", controls, "\u{7F}del stays", "end\\",
            "héllo wörld", "中文路径", "emoji 🙂 and 👩‍👩‍👧", "e\u{301} combining", "\u{2028}\u{2029} separators",
            "mixed \u{1}中\"\u{1F}🙂\\",
        ]
        for text in texts {
            var entry = AccessLogEntry(
                time: Date(timeIntervalSince1970: 1), requestID: text, clientAddress: text, method: text,
                path: Substring(text))
            entry.route = text
            entry.upstream = text
            entry.openid = text
            entry.error = text

            assertMatchesStringBuiltLine(entry, "text \(text.debugDescription)")
        }
    }

    func testByteWriterWritesLongFieldsThatAreAllEscapesWithinItsReservedBound() {
        // Each field at its worst case (6 bytes per byte), long enough that the line is far past any fixed reserve.
        for text in [String(repeating: "\u{1}", count: 3_000), String(repeating: "\"中", count: 2_000)] {
            var entry = AccessLogEntry(
                time: Date(timeIntervalSince1970: -1.5), requestID: text, clientAddress: text, method: text,
                path: Substring(text))
            entry.route = text
            entry.upstream = text
            entry.upstreamSeconds = 1e9.nextDown
            entry.durationSeconds = 1e9.nextDown
            entry.openid = text
            entry.error = text
            entry.status = Int.min
            entry.bytesIn = Int.min
            entry.bytesOut = Int.max

            assertMatchesStringBuiltLine(entry, "text of \(text.utf8.count) bytes")
        }
    }

    func testByteWriterEscapesAPathThatIsASliceOfALongerTarget() {
        let target = "/a\"b\\c\u{1}d/中文?q=\"secret\""
        let path = target[..<target.firstIndex(of: "?")!]
        let entry = AccessLogEntry(
            time: Date(timeIntervalSince1970: 1), requestID: "r", clientAddress: nil, method: "GET", path: path)

        assertMatchesStringBuiltLine(entry)
        XCTAssertFalse(entry.jsonLine().contains("secret"))
    }

    func testByteWriterWritesIntegersAsStringDoes() {
        for value in [0, 1, 9, 10, 99, 100, 101, 999_999, 1_000_000, -1, -10, -205, Int.max, Int.min] {
            var entry = entry(durationSeconds: 0)
            entry.status = value
            entry.bytesIn = value
            entry.bytesOut = value / 7

            assertMatchesStringBuiltLine(entry, "integer \(value)")
        }
    }

    func testByteWriterWritesDurationsAsStringOfDoubleDoes() {
        let seconds: [Double] = [
            0, -0.0, 0.000_000_1, 0.000_000_499, 0.000_000_5, 0.000_000_501, 0.000_001, 0.000_01, 0.000_1, 0.000_5,
            0.001, 0.001_05, 0.009_999, 0.012_5, 0.054_503, 0.1, 0.123_456_7, 0.5, 0.999_999_5, 1, 1.000_001, 12,
            59.999_999_9, 86_400, 123_456.789_012, 999_999_999, 999_999_999.999_999, 1e9.nextDown, 1e9, 1e9.nextUp,
            1e12, -0.001, -1, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        ]
        for value in seconds {
            assertMatchesStringBuiltLine(entry(durationSeconds: value), "seconds \(value)")
        }
    }

    func testByteWriterWritesEveryMicrosecondCountAsStringOfDoubleDoes() {
        // Every duration up to 30 ms, one microsecond apart, then whole ranges around powers of ten.
        var micros = Array(0..<30_000)
        for power in 3...14 {
            let ten = Int(pow(10, Double(power)))
            micros += (ten - 500)...(ten + 500)
        }
        for count in micros {
            let seconds = Double(count) / 1_000_000
            assertMatchesStringBuiltLine(entry(durationSeconds: seconds), "micros \(count)")
        }
    }

    func testByteWriterWritesRandomDurationsAsStringOfDoubleDoes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            // Random magnitudes from a microsecond to the 1e9 s guard, and random microsecond counts across the range.
            let exponent = Double.random(in: -7...9.1, using: &generator)
            let byMagnitude = pow(10, exponent) * Double.random(in: 0.5...1, using: &generator)
            let byMicros = Double(Int.random(in: 0..<1_000_000_000_000_000, using: &generator)) / 1_000_000
            for seconds in [byMagnitude, byMicros] {
                assertMatchesStringBuiltLine(entry(durationSeconds: seconds), "seconds \(seconds)")
            }
        }
    }

    func testByteWriterWritesTimestampsAsThePaddedStringsDid() {
        var times: [Double] = [
            0, 0.001, 0.009, 0.099, 0.25, 0.999, 1, 59.5, 951_782_400.123, 1_700_000_000.25, 1_700_000_000.999_999,
            4_102_444_800, 253_402_300_799.999, 253_402_300_800, -0.25, -1.005, -1.5, -86_400, -2_208_988_800,
            -62_135_596_800,
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            times.append(Double.random(in: -4_102_444_800..<4_102_444_800, using: &generator))
        }
        for time in times {
            let entry = AccessLogEntry(
                time: Date(timeIntervalSince1970: time), requestID: "r", clientAddress: nil, method: "GET", path: "/")

            assertMatchesStringBuiltLine(entry, "time \(time)")
        }
    }
}
