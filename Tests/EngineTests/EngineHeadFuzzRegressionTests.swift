import Foundation
import GatewayCore
import Tokens
import XCTest

@testable import Engine

/// Inputs the engine's request-head fuzz target (Fuzz/Sources/FuzzEngineHead) turned up, as unit tests.
final class EngineHeadFuzzRegressionTests: XCTestCase {
    private func planner() throws -> EngineRequestPlanner {
        var tokens = TokensConfig()
        tokens.signingKey = .secret("0123456789abcdef0123456789abcdef")
        let ring = try tokens.makeKeyRing().get()
        var route = RouteConfig(prefix: "/api/", upstreams: [try XCTUnwrap(UpstreamURL(configText: "http://u:1"))])
        route.auth = .none
        return EngineRequestPlanner(
            routes: RouteTable([route]),
            verifier: GatewayRuntime.makeVerifier(config: tokens, keyRing: ring, revocations: RevocationList()),
            rewriter: HeaderRewriter(identity: IdentityConfig(), trustedProxies: []), maxHeaderBytes: 16384)
    }

    /// The upstream lines of `text` (one request), and whether they stayed within the memory reserved for them.
    private func upstreamLines(_ text: String) throws -> (lines: [String], withinCapacity: Bool) {
        let planner = try planner()
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { raw in
            let buffer = raw.baseAddress!
            let parser = RequestHeadParser()
            XCTAssertEqual(parser.parse(buffer, from: 0, count: raw.count), .request(consumed: raw.count))
            var rules: [RequestFieldRule] = []
            guard case .forward(let plan) = planner.plan(parser.head, in: buffer, rules: &rules, now: Date()) else {
                throw XCTSkip("not forwarded")
            }
            var built = UpstreamRequestLines()
            defer { built.deallocate() }
            built.build(
                head: parser.head, rules: rules, buffer: buffer, plan: plan, identity: IdentityConfig(),
                peer: "10.0.0.1")
            var lines: [String] = []
            var node = built.list
            while let current = node {
                lines.append(String(cString: current.pointee.data))
                node = current.pointee.next
            }
            return (lines, built.used <= built.byteCapacity)
        }
    }

    func testAnHTTP10RequestWithTwoHostsIsRefusedNotForwardedWithBoth() throws {
        // RFC 9112 section 3.2: a request with more than one Host is 400 in any version. Only HTTP/1.1 was held to
        // one, so an HTTP/1.0 request with two went upstream with both: the route was matched on the first, an
        // upstream reading the last served another host's request (FuzzEngineHead: "two Host lines upstream").
        let planner = try planner()
        for text in [
            "GET /api/x HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", "GET /api/x HTTP/1.0\r\nHost: a\r\nhost: a/b\r\n\r\n",
        ] {
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { raw in
                let parser = RequestHeadParser()
                XCTAssertEqual(parser.parse(raw.baseAddress!, from: 0, count: raw.count), .request(consumed: raw.count))
                var rules: [RequestFieldRule] = []
                let decision = planner.plan(parser.head, in: raw.baseAddress!, rules: &rules, now: Date())
                guard case .answer(.malformedRequest, _, _, _) = decision else {
                    return XCTFail("\(decision) for \(text)")
                }
                XCTAssertEqual(planner.admissionRefusal(parser.head, in: raw.baseAddress!), .malformedRequest, text)
            }
        }
        // HTTP/1.0 without Host is still fine (RFC 9112 section 3.2 asks for it in HTTP/1.1 only).
        XCTAssertNotNil(try upstreamLines("GET /api/x HTTP/1.0\r\n\r\n").lines.first)
    }

    func testALongHostIsWrittenTwiceWithinTheLinesBuffer() throws {
        // The Host value goes upstream as Host and again as X-Forwarded-Host, but the buffer counted it once: with a
        // Host of a few KiB (allowed up to max_header_bytes) the second copy was written past the end of the
        // allocation, a heap overflow with the client's bytes (ASan: heap-buffer-overflow in append, from
        // appendLine(name:value:) for X-Forwarded-Host).
        let host = String(repeating: "a", count: 6000)
        let built = try upstreamLines("GET /api/x HTTP/1.1\r\nHost: \(host)\r\n\r\n")
        XCTAssertTrue(built.withinCapacity, "the lines were written past their buffer")
        XCTAssertTrue(built.lines.contains("Host: \(host)"))
        XCTAssertTrue(built.lines.contains("X-Forwarded-Host: \(host)"))
    }
}
