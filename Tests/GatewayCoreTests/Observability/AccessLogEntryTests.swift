import Foundation
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
}
