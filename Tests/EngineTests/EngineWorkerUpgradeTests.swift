import Foundation
import GatewayCore
import XCTest

@testable import Engine

/// The WebSocket rows of the engine's request path (moved from `RequestPlannerUpgradeTests`): which upgrades become
/// tunnels (`EngineWorker.upgradeCheck`, before authentication), how they are planned, and the request written
/// upstream (`EngineWorker.upgradeRequest`).
final class EngineWorkerUpgradeTests: XCTestCase {
    private var runtime: GatewayRuntime!
    private let upgrade = [
        ("Connection", "keep-alive, Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ]

    override func setUpWithError() throws {
        runtime = try EnginePlannerFixture.runtime(
            """
            [[routes]]
            prefix = "/ws/"
            upstreams = ["http://127.0.0.1:9004/base"]
            websocket = true
            timeout = "7s"
            """)
    }

    private enum Check: Equatable {
        case notWebSocket
        case refuse(GatewayError, route: String)
        /// The route's prefix and the `Sec-WebSocket-Accept` the upstream's 101 must carry.
        case tunnel(route: String, accept: String)
    }

    private func check(_ requestLine: String, _ fields: [(String, String)]) -> Check {
        EnginePlannerFixture.withHead(requestLine, fields) { head, buffer in
            switch EngineWorker.upgradeCheck(
                head, headers: EngineWorker.headers(of: head, in: buffer), in: buffer, routes: runtime.routes)
            {
            case .notWebSocket: return .notWebSocket
            case .refuse(let error, let route, _): return .refuse(error, route: route)
            case .tunnel(let handshake, let route):
                return .tunnel(route: route.prefix, accept: handshake.expectedAccept)
            }
        }
    }

    /// The head the upstream gets for an upgrade the planner forwards, as `openTunnel` builds it.
    private func upgradeRequest(
        _ target: String, _ fields: [(String, String)]
    ) throws -> (plan: ForwardPlan, lines: [String]) {
        let settings = EngineSettings(runtime: runtime, accessLogger: nil)
        return try EnginePlannerFixture.withHead("GET \(target) HTTP/1.1", fields) { head, buffer in
            var rules: [RequestFieldRule] = []
            let plan = try XCTUnwrap(settings.planner.plan(head, in: buffer, rules: &rules, now: Date()).forward)
            var lines = UpstreamRequestLines()
            defer { lines.deallocate() }
            lines.build(
                head: head, rules: rules, buffer: buffer, plan: plan, identity: settings.identity, peer: "10.1.2.3")
            let text = String(decoding: EngineWorker.upgradeRequest(plan: plan, lines: lines), as: UTF8.self)
            return (plan, text.components(separatedBy: "\r\n"))
        }
    }

    /// The `jti` claim of a compact JWS, read straight from its payload.
    private static func jti(of token: String) throws -> String? {
        var payload = token.split(separator: ".")[1].replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        payload += String(repeating: "=", count: (4 - payload.count % 4) % 4)
        let data = try XCTUnwrap(Data(base64Encoded: payload))
        let claims = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return claims["jti"] as? String
    }

    private func bearer() throws -> (String, String) {
        ("Authorization", "Bearer \(try EnginePlannerFixture.token())")
    }

    func testWebSocketOnAnOrdinaryRouteIsRefusedBeforeAuthentication() {
        XCTAssertEqual(check("GET /api/chat HTTP/1.1", upgrade), .refuse(.webSocketNotEnabled, route: "/api/"))
        XCTAssertEqual(GatewayError.webSocketNotEnabled.status, .badRequest)
    }

    func testOtherProtocolSwitchesAreForwardedAsPlainRequests() throws {
        let fields = [("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"), try bearer()]
        XCTAssertEqual(check("GET /api/x HTTP/1.1", fields), .notWebSocket)
        let request = try XCTUnwrap(EnginePlannerFixture.upstreamRequest(runtime, "GET /api/x HTTP/1.1", fields))
        XCTAssertFalse(request.lines.contains { $0.lowercased().hasPrefix("upgrade") }, "\(request.lines)")
        XCTAssertFalse(request.lines.contains { $0.lowercased().hasPrefix("http2-settings") }, "\(request.lines)")
    }

    func testUpgradeIsAuthenticatedLikeAnyRequest() {
        XCTAssertEqual(
            check("GET /ws/chat HTTP/1.1", upgrade), .tunnel(route: "/ws/", accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
        XCTAssertEqual(
            EnginePlannerFixture.plan(runtime, "GET /ws/chat HTTP/1.1", upgrade).error,
            .authentication(.missingToken))
    }

    func testOnlyABodilessHTTP11GetCanUpgrade() throws {
        let token = try bearer()
        XCTAssertEqual(check("POST /ws/chat HTTP/1.1", upgrade + [token]), .refuse(.malformedRequest, route: "/ws/"))
        XCTAssertEqual(
            check("GET /ws/chat HTTP/1.1", upgrade + [token, ("Content-Length", "3")]),
            .refuse(.malformedRequest, route: "/ws/"))
        XCTAssertEqual(check("GET /ws/chat HTTP/1.0", upgrade + [token]), .refuse(.malformedRequest, route: "/ws/"))
    }

    func testTunnelRequestCarriesTheRewrittenUpgrade() throws {
        let token = try EnginePlannerFixture.token()
        let (plan, lines) = try upgradeRequest(
            "/ws/chat?room=1",
            upgrade + [("Authorization", "Bearer \(token)"), ("X-OpenId", "forged"), ("X-Request-Id", "req-1")])
        XCTAssertEqual(plan.claims?.subject, "o-alice")
        // The registry keys the tunnel by the token's own jti, so a revocation of that token finds it.
        XCTAssertEqual(plan.claims?.jti, try Self.jti(of: token))
        XCTAssertEqual(plan.upstream.description, "http://127.0.0.1:9004/base")
        XCTAssertEqual(plan.timeout, .seconds(7))
        XCTAssertEqual(runtime.config.websocket.idleTimeout, .seconds(60))
        XCTAssertEqual(runtime.config.websocket.buffer.bytes, 1 << 20)
        let head = lines.joined(separator: "\r\n")
        XCTAssertEqual(lines.first, "GET /base/ws/chat?room=1 HTTP/1.1")
        XCTAssertTrue(head.hasSuffix("Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"), head)
        XCTAssertEqual(lines.filter { $0.lowercased().hasPrefix("host:") }, ["Host: gw.example"])
        XCTAssertTrue(lines.contains("X-OpenId: o-alice"), head)
        XCTAssertFalse(lines.contains("X-OpenId: forged"), head)
        XCTAssertFalse(lines.contains { $0.hasPrefix("Authorization") }, head)
        XCTAssertTrue(lines.contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="), head)
        XCTAssertTrue(lines.contains("X-Request-Id: req-1"), head)
        XCTAssertEqual(lines.filter { $0.hasPrefix("Connection") }.count, 1)
        XCTAssertFalse(lines.contains { $0.hasPrefix("Expect") || $0.hasPrefix("Accept:") }, head)
    }

    func testAnUpgradeWithoutAVersion13KeyIsRefusedBeforeAuthentication() {
        let refused: [[(String, String)]] = [
            Array(upgrade.prefix(2)),
            Array(upgrade.prefix(3)),
            Array(upgrade.prefix(2)) + [upgrade[3]],
            Array(upgrade.prefix(2)) + [("Sec-WebSocket-Version", "8"), upgrade[3]],
            Array(upgrade.prefix(3)) + [("Sec-WebSocket-Key", "c2hvcnQ=")],
            upgrade + [upgrade[3]],
        ]
        for fields in refused {
            XCTAssertEqual(
                check("GET /ws/chat HTTP/1.1", fields), .refuse(.webSocketHandshakeInvalid, route: "/ws/"),
                "\(fields)")
        }
        XCTAssertEqual(GatewayError.webSocketHandshakeInvalid.status, .badRequest)
    }

    func testTheUpstreamIsAskedForWebSocketAloneWithoutHTTP2Settings() throws {
        let fields = [
            ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c, websocket"),
            ("HTTP2-Settings", "AAMAAABkAAQCAAAAAAIAAAAA"), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), try bearer(),
        ]
        // The 101 must prove the upstream read this key (RFC 6455 section 4.1): `TunnelAnswer` checks this accept.
        XCTAssertEqual(
            check("GET /ws/chat HTTP/1.1", fields), .tunnel(route: "/ws/", accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
        let (_, lines) = try upgradeRequest("/ws/chat", fields)
        XCTAssertEqual(lines.filter { $0.lowercased().hasPrefix("upgrade:") }, ["Upgrade: websocket"])
        XCTAssertEqual(lines.filter { $0.lowercased().hasPrefix("connection:") }, ["Connection: Upgrade"])
        XCTAssertFalse(lines.contains { $0.lowercased().hasPrefix("http2-settings") }, "\(lines)")
    }
}
