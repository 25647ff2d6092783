import Foundation
import GatewayCore
import XCTest

@testable import Engine

/// The worker hands `UpstreamRequestLines.build` the trace's `traceparent` and `tracestate` as it reads them from the
/// request, not the `RequestSpan`: the same URL and lines either way, with or without a trace, a `tracestate` or
/// trusted X-Forwarded-*.
final class UpstreamRequestLinesTraceTests: XCTestCase {
    private func both(
        _ fields: [(String, String)], traced: Bool, trustedPeer: Bool = false
    ) throws -> (span: [String], parts: [String]) {
        let runtime = try EnginePlannerFixture.runtime()
        let settings = EngineSettings(runtime: runtime, accessLogger: nil)
        return try XCTUnwrap(
            EnginePlannerFixture.withHead("GET /open/x?q=1 HTTP/1.1", fields) { head, buffer in
                var rules: [RequestFieldRule] = []
                guard case .forward(let plan) = settings.planner.plan(head, in: buffer, rules: &rules, now: Date())
                else { return nil }
                let trace = traced ? EngineRequestPlanner.startTrace(runtime.tracer, head, in: buffer) : nil
                var bySpan = UpstreamRequestLines()
                var byParts = UpstreamRequestLines()
                defer {
                    bySpan.deallocate()
                    byParts.deallocate()
                }
                bySpan.build(
                    head: head, rules: rules, buffer: buffer, plan: plan, identity: settings.identity,
                    peer: "10.1.2.3", trustedPeer: trustedPeer, trace: trace, overTLS: true)
                byParts.build(
                    head: head, rules: rules, buffer: buffer, plan: plan, identity: settings.identity,
                    peer: "10.1.2.3", trustedPeer: trustedPeer, traceParent: trace?.forwarded,
                    tracestate: trace?.tracestate, overTLS: true)
                XCTAssertEqual(bySpan.used, byParts.used)
                XCTAssertEqual(
                    bySpan.url.map { String(cString: $0) }, byParts.url.map { String(cString: $0) })
                return (EnginePlannerFixture.lines(of: bySpan), EnginePlannerFixture.lines(of: byParts))
            })
    }

    func testTheTracesPartsWriteTheSameLinesAsItsSpan() throws {
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let cases: [[(String, String)]] = [
            [], [("traceparent", incoming)], [("TraceParent", incoming), ("tracestate", "vendor=1")],
            [("tracestate", "alone=1"), ("Accept", "*/*")],
            [("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-Proto", "https"), ("Connection", "x-a"), ("X-A", "b")],
        ]
        for fields in cases {
            for traced in [false, true] {
                for trustedPeer in [false, true] {
                    let (span, parts) = try both(fields, traced: traced, trustedPeer: trustedPeer)
                    XCTAssertEqual(span, parts, "\(fields) traced \(traced)")
                    if traced {
                        XCTAssertEqual(span.filter { $0.lowercased().hasPrefix("traceparent:") }.count, 1, "\(span)")
                    }
                }
            }
        }
    }

    /// A `tracestate` without a `traceparent` to go with it is not written (W3C Trace Context section 3.3).
    func testATracestateWithoutItsTraceparentIsNotWritten() throws {
        let runtime = try EnginePlannerFixture.runtime()
        let settings = EngineSettings(runtime: runtime, accessLogger: nil)
        let lines = EnginePlannerFixture.withHead("GET /open/x HTTP/1.1") { head, buffer in
            var rules: [RequestFieldRule] = []
            guard case .forward(let plan) = settings.planner.plan(head, in: buffer, rules: &rules, now: Date()) else {
                return [String]()
            }
            var built = UpstreamRequestLines()
            defer { built.deallocate() }
            built.build(
                head: head, rules: rules, buffer: buffer, plan: plan, identity: settings.identity, peer: "10.1.2.3",
                trustedPeer: false, traceParent: nil, tracestate: "vendor=1", overTLS: false)
            return EnginePlannerFixture.lines(of: built)
        }
        XCTAssertFalse(lines.isEmpty)
        XCTAssertFalse(lines.contains { $0.lowercased().hasPrefix("trace") }, "\(lines)")
    }
}
