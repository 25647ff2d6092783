import Foundation
import GatewayCore
import XCTest

@testable import Engine

/// The access-log line a request ends with (`InFlightRequest.takeLogEntry`, written by `EngineWorker.finish`): every
/// field the request gathered, whatever ended it.
final class InFlightRequestTests: XCTestCase {
    private let start = Date(timeIntervalSince1970: 1_700_000_000)

    private func request() -> InFlightRequest {
        let path = "/api/caf\u{e9}/items?q=1".split(separator: "?")[0]
        return InFlightRequest(
            requestID: "req-0123456789abcdef0123", method: "PATCH", path: path, route: "/api/",
            upstream: "http://127.0.0.1:9000", openid: "o-user-with-a-long-openid-1", isHead: false,
            isHTTP10: false, startedAt: start)
    }

    func testEntryCarriesEveryFieldTheRequestGathered() {
        let request = request()
        request.status = 502
        request.bytesIn = 12
        request.bytesOut = 345
        request.upstreamSeconds = 0.25
        var entry = AccessLogEntry(
            time: start, requestID: "req-0123456789abcdef0123", clientAddress: "10.0.0.1", method: "PATCH",
            path: "/api/caf\u{e9}/items")
        entry.route = "/api/"
        entry.status = 502
        entry.bytesIn = 12
        entry.bytesOut = 345
        entry.durationSeconds = 1.5
        entry.upstream = "http://127.0.0.1:9000"
        entry.upstreamSeconds = 0.25
        entry.openid = "o-user-with-a-long-openid-1"
        entry.error = "upstream_refused"
        let taken = request.takeLogEntry(
            clientAddress: "10.0.0.1", error: "upstream_refused", endedAt: start.addingTimeInterval(1.5))
        XCTAssertEqual(taken.jsonLine(), entry.jsonLine())
        XCTAssertEqual(taken.requestID, "req-0123456789abcdef0123")
        XCTAssertEqual(taken.method, "PATCH")
        XCTAssertEqual(taken.path, "/api/caf\u{e9}/items")
        XCTAssertEqual(taken.openid, "o-user-with-a-long-openid-1")
        XCTAssertEqual(taken.durationSeconds, 1.5)
    }

    func testTheRequestsOwnErrorWinsOverTheOneItEndedWith() {
        let request = request()
        request.error = "client_timeout"
        XCTAssertEqual(request.takeLogEntry(clientAddress: nil, error: "408", endedAt: start).error, "client_timeout")
        XCTAssertEqual(self.request().takeLogEntry(clientAddress: nil, error: "408", endedAt: start).error, "408")
        XCTAssertNil(self.request().takeLogEntry(clientAddress: nil, error: nil, endedAt: start).error)
    }

    func testAbsentFieldsStayAbsent() {
        let request = InFlightRequest(
            requestID: "r", method: "-", path: "", route: nil, upstream: nil, openid: nil, isHead: false,
            isHTTP10: true, startedAt: start)
        let entry = request.takeLogEntry(clientAddress: nil, error: nil, endedAt: start)
        XCTAssertEqual(entry.requestID, "r")
        XCTAssertEqual(entry.method, "-")
        XCTAssertEqual(entry.path, "")
        XCTAssertNil(entry.route)
        XCTAssertNil(entry.upstream)
        XCTAssertNil(entry.openid)
        XCTAssertNil(entry.clientAddress)
        XCTAssertNil(entry.upstreamSeconds)
        XCTAssertEqual(entry.status, 0)
        XCTAssertEqual(entry.durationSeconds, 0)
    }
}
