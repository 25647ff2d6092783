import Foundation
import NIOHTTP1
import XCTest

@testable import GatewayCore

final class GatewayMetricsTests: XCTestCase {
    private func scrape(_ metrics: GatewayMetrics) -> String {
        String(decoding: metrics.exposition(), as: UTF8.self)
    }

    func testRecordedRequestsAppearAsCountersAndHistogramsPerRoute() {
        let metrics = GatewayMetrics()
        var entry = AccessLogEntry(time: Date(), requestID: "r", clientAddress: nil, method: "GET", path: "/api/x")
        entry.route = "/api/"
        entry.status = 200
        entry.durationSeconds = 0.003
        entry.upstreamSeconds = 0.002
        entry.bytesOut = 10
        metrics.recordRequest(entry)
        metrics.recordRequest(entry)

        let text = scrape(metrics)
        XCTAssertTrue(text.contains(#"gateway_requests_total{route="/api/",method="GET",status="200"} 2"#), text)
        XCTAssertTrue(text.contains(#"gateway_request_duration_seconds_count{route="/api/"} 2"#), text)
        XCTAssertTrue(text.contains(#"gateway_upstream_duration_seconds_bucket{route="/api/",le="0.0025"} 2"#), text)
        XCTAssertTrue(text.contains(#"gateway_response_body_bytes_total{route="/api/"} 20"#), text)
    }

    func testRequestsAlternatingBetweenSeriesAreEachCountedInTheirOwn() {
        let metrics = GatewayMetrics()
        func record(_ route: String, _ method: String, _ status: Int) {
            var entry = AccessLogEntry(time: Date(), requestID: "r", clientAddress: nil, method: method, path: "/")
            entry.route = route
            entry.status = status
            entry.bytesOut = 1
            metrics.recordRequest(entry)
        }
        for (route, method, status) in [
            ("/a/", "GET", 200), ("/a/", "GET", 200), ("/b/", "GET", 200), ("/a/", "GET", 404), ("/a/", "POST", 200),
            ("/a/", "GET", 200), ("/a/", "BREW", 200),
        ] {
            record(route, method, status)
        }
        let text = scrape(metrics)
        XCTAssertTrue(text.contains(#"gateway_requests_total{route="/a/",method="GET",status="200"} 3"#), text)
        XCTAssertTrue(text.contains(#"gateway_requests_total{route="/b/",method="GET",status="200"} 1"#), text)
        XCTAssertTrue(text.contains(#"gateway_requests_total{route="/a/",method="GET",status="404"} 1"#), text)
        XCTAssertTrue(text.contains(#"gateway_requests_total{route="/a/",method="POST",status="200"} 1"#), text)
        XCTAssertTrue(text.contains(#"gateway_requests_total{route="/a/",method="other",status="200"} 1"#), text)
        XCTAssertTrue(text.contains(#"gateway_response_body_bytes_total{route="/a/"} 6"#), text)
        XCTAssertTrue(text.contains(#"gateway_response_body_bytes_total{route="/b/"} 1"#), text)
    }

    func testRequestsFromSeveralThreadsSwitchingSeriesAreAllCounted() {
        // Engine workers record at the same time; each switch of labels replaces the shared last series.
        let metrics = GatewayMetrics()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for step in 0..<1_000 {
                var entry = AccessLogEntry(time: Date(), requestID: "r", clientAddress: nil, method: "GET", path: "/")
                entry.route = (thread + step) % 3 == 0 ? "/a/" : "/b/"
                entry.status = step % 2 == 0 ? 200 : 404
                entry.bytesOut = 1
                metrics.recordRequest(entry)
            }
        }
        let text = scrape(metrics)
        // Per thread: (thread + step) % 3 == 0 for 334 or 333 steps of 1000; split evenly between the two statuses.
        let onA = (0..<4).map { thread in (0..<1_000).filter { (thread + $0) % 3 == 0 }.count }.reduce(0, +)
        XCTAssertTrue(text.contains(#"gateway_response_body_bytes_total{route="/a/"} \#(onA)"#), text)
        XCTAssertTrue(text.contains(#"gateway_response_body_bytes_total{route="/b/"} \#(4_000 - onA)"#), text)
        XCTAssertTrue(text.contains(#"gateway_request_duration_seconds_count{route="/a/"} \#(onA)"#), text)
        let statuses = ["200", "404"].map { status in
            ["/a/", "/b/"].map { route in
                Self.value(of: #"gateway_requests_total{route="\#(route)",method="GET",status="\#(status)"}"#, in: text)
            }
        }
        XCTAssertEqual(statuses.joined().reduce(0, +), 4_000, text)
        XCTAssertEqual(statuses[0].reduce(0, +), 2_000, text)
    }

    private static func value(of series: String, in text: String) -> Int {
        let line = text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
        return line.flatMap { Int($0.dropFirst(series.count + 1)) } ?? -1
    }

    func testReloadOutcomesTokenFailuresAndWeChatCallsAreCounted() {
        let metrics = GatewayMetrics()
        metrics.recordReload(applied: true)
        metrics.recordReload(applied: false)
        metrics.recordTokenFailure(reason: "expired")
        metrics.recordWeChatCall(api: "/sns/jscode2session", errcode: 40029, seconds: 0.01)

        let text = scrape(metrics)
        XCTAssertTrue(text.contains(#"gateway_config_reloads_total{outcome="success"} 1"#), text)
        XCTAssertTrue(text.contains(#"gateway_config_reloads_total{outcome="failure"} 1"#), text)
        XCTAssertTrue(text.contains("gateway_config_last_reload_successful 0"), text)
        XCTAssertTrue(text.contains(#"gateway_token_verification_failures_total{reason="expired"} 1"#), text)
        XCTAssertTrue(
            text.contains(#"gateway_wechat_api_calls_total{api="/sns/jscode2session",errcode="40029"} 1"#), text)
        XCTAssertTrue(text.contains(#"gateway_wechat_api_duration_seconds_count{api="/sns/jscode2session"} 1"#), text)
    }

    func testSampledGaugesReportTheLastSample() {
        let metrics = GatewayMetrics()
        metrics.sample(openConnections: 7, upstreamTransfersInFlight: 3, accessLogDroppedLines: nil)
        let text = scrape(metrics)
        XCTAssertTrue(text.contains("gateway_open_client_connections 7"), text)
        XCTAssertTrue(text.contains("gateway_upstream_transfers_in_flight 3"), text)
    }

    func testAdminEndpointDecision() {
        XCTAssertEqual(AdminEndpoint(method: .GET, uri: "/healthz"), .health)
        XCTAssertEqual(AdminEndpoint(method: .HEAD, uri: "/readyz"), .readiness)
        XCTAssertEqual(AdminEndpoint(method: .GET, uri: "/metrics?name[]=x"), .metrics)
        XCTAssertEqual(AdminEndpoint(method: .POST, uri: "/metrics"), .methodNotAllowed)
        XCTAssertEqual(AdminEndpoint(method: .GET, uri: "/metrics/"), .notFound)
        XCTAssertEqual(AdminEndpoint(method: .GET, uri: "/api/x"), .notFound)
    }

    func testRestartRequiredChangesNameOnlyTheKeysAReloadCannotApply() {
        let old = GatewayConfiguration()
        var new = old
        new.routes = [RouteConfig(prefix: "/x/", upstreams: [])]
        new.server.clientTimeout = .seconds(5)
        XCTAssertEqual(RestartRequiredChanges(old: old, new: new).keys, [])
        new.server.listen = ListenAddress(host: "0.0.0.0", port: 1)
        new.server.workers = old.server.workers + 1
        XCTAssertEqual(RestartRequiredChanges(old: old, new: new).keys, ["server.listen", "server.workers"])
    }
}
