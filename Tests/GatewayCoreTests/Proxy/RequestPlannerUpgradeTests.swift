import CurlHTTP
import Foundation
import NIOHTTP1
import XCTest

@testable import GatewayCore

/// The WebSocket rows of the planner: which upgrades become tunnels, and the request written upstream.
final class RequestPlannerUpgradeTests: XCTestCase {
    private var runtime: GatewayRuntime!
    private let upgrade = [
        ("Connection", "keep-alive, Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ]

    override func setUpWithError() throws {
        runtime = try ProxyFixture.runtime(
            """
            [[routes]]
            prefix = "/ws/"
            upstreams = ["http://127.0.0.1:9004/base"]
            websocket = true
            timeout = "7s"
            """,
            server: "")
    }

    private func plan(_ uri: String, _ headers: [(String, String)]) -> RequestPlan {
        plan(.GET, uri, headers)
    }

    private func plan(
        _ method: HTTPMethod, _ uri: String, version: HTTPVersion = .http1_1, _ headers: [(String, String)]
    ) -> RequestPlan {
        var fields = HTTPHeaders(headers)
        fields.add(name: "Host", value: "gw.example")
        let head = HTTPRequestHead(version: version, method: method, uri: uri, headers: fields)
        return RequestPlanner(runtime: runtime, scheme: "https").plan(
            head, fields: RequestHeadFields(fields), target: RequestTarget(uri), peerAddress: "10.1.2.3",
            requestID: "req-1", now: Date())
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

    private func bearer() throws -> (String, String) { ("Authorization", "Bearer \(try ProxyFixture.token())") }

    func testWebSocketOnAnOrdinaryRouteIsRefusedBeforeAuthentication() {
        let planned = plan("/api/chat", upgrade)
        guard case .answer(let error, _) = planned.decision else { return XCTFail("\(planned.decision)") }
        XCTAssertEqual(error, .webSocketNotEnabled)
        XCTAssertEqual(error.status, .badRequest)
    }

    func testOtherProtocolSwitchesAreForwardedAsPlainRequests() throws {
        let planned = plan("/api/x", [("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"), try bearer()])
        guard case .forward(let forward) = planned.decision else { return XCTFail("\(planned.decision)") }
        XCTAssertFalse(forward.request.headers.contains { $0.name.lowercased() == "upgrade" })
    }

    func testUpgradeIsAuthenticatedLikeAnyRequest() {
        guard case .answer(let error, _) = plan("/ws/chat", upgrade).decision else { return XCTFail() }
        XCTAssertEqual(error, .authentication(.missingToken))
    }

    func testOnlyABodilessHTTP11GetCanUpgrade() throws {
        let token = try bearer()
        for planned in [
            plan(.POST, "/ws/chat", upgrade + [token]),
            plan("/ws/chat", upgrade + [token, ("Content-Length", "3")]),
        ] {
            guard case .answer(let error, _) = planned.decision else { return XCTFail("\(planned.decision)") }
            XCTAssertEqual(error, .malformedRequest)
        }
    }

    func testTunnelRequestCarriesTheRewrittenUpgrade() throws {
        let token = try ProxyFixture.token()
        let planned = plan(
            "/ws/chat?room=1",
            upgrade + [("Authorization", "Bearer \(token)"), ("X-OpenId", "forged")])
        guard case .tunnel(let tunnel) = planned.decision else { return XCTFail("\(planned.decision)") }
        XCTAssertEqual(planned.openid, "o-alice")
        XCTAssertEqual(tunnel.identity?.openid, "o-alice")
        // The registry keys the tunnel by the token's own jti, so a revocation of that token finds it.
        XCTAssertEqual(tunnel.identity?.jti, try Self.jti(of: token))
        // Only the scheme, host and port are used: libcurl connects, the path goes in the written head.
        XCTAssertTrue(tunnel.request.url.hasPrefix("http://127.0.0.1:9004/"))
        XCTAssertEqual(tunnel.request.answerTimeoutMilliseconds, 7000)
        XCTAssertEqual(tunnel.request.idleTimeoutMilliseconds, 60_000)
        XCTAssertEqual(tunnel.request.bufferLimit, 1 << 20)
        let head = String(decoding: tunnel.request.head, as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        XCTAssertEqual(lines.first, "GET /base/ws/chat?room=1 HTTP/1.1")
        XCTAssertTrue(head.hasSuffix("Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"), head)
        XCTAssertEqual(lines.filter { $0.lowercased().hasPrefix("host:") }, ["Host: gw.example"])
        XCTAssertTrue(lines.contains("X-OpenId: o-alice"), head)
        XCTAssertFalse(lines.contains("X-OpenId: forged"), head)
        XCTAssertFalse(lines.contains { $0.hasPrefix("Authorization") }, head)
        XCTAssertTrue(lines.contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="), head)
        XCTAssertTrue(lines.contains("X-Request-Id: req-1"), head)
        XCTAssertEqual(lines.filter { $0.hasPrefix("Connection") }.count, 1)
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
        for headers in refused {
            guard case .answer(let error, _) = plan("/ws/chat", headers).decision else {
                return XCTFail("\(headers)")
            }
            XCTAssertEqual(error, .webSocketHandshakeInvalid, "\(headers)")
            XCTAssertEqual(error.status, .badRequest)
        }
    }

    func testTheUpstreamIsAskedForWebSocketAloneWithoutHTTP2Settings() throws {
        let planned = plan(
            "/ws/chat",
            [
                ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c, websocket"),
                ("HTTP2-Settings", "AAMAAABkAAQCAAAAAAIAAAAA"), ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), try bearer(),
            ])
        guard case .tunnel(let tunnel) = planned.decision else { return XCTFail("\(planned.decision)") }
        let lines = String(decoding: tunnel.request.head, as: UTF8.self).components(separatedBy: "\r\n")
        XCTAssertEqual(lines.filter { $0.lowercased().hasPrefix("upgrade:") }, ["Upgrade: websocket"])
        XCTAssertEqual(lines.filter { $0.lowercased().hasPrefix("connection:") }, ["Connection: Upgrade"])
        XCTAssertFalse(lines.contains { $0.lowercased().hasPrefix("http2-settings") }, "\(lines)")
        // The 101 must prove the upstream read this key (RFC 6455 section 4.1).
        XCTAssertEqual(
            tunnel.request.expectedSwitch,
            CurlSwitchExpectation(
                upgrade: "websocket",
                fields: [.init(name: "Sec-WebSocket-Accept", value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]))
    }

    func testSwitchingHeadKeepsTheProtocolFieldsAndTheSwitch() {
        var writer = ResponseHeadWriter(version: .http1_1, status: 101, allocator: .init())
        XCTAssertTrue(
            HeaderRewriter.writeSwitchingHead(
                fields: [
                    ("Upgrade", "websocket"), ("Connection", "Upgrade, X-Hop"), ("X-Hop", "1"),
                    ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), ("Keep-Alive", "timeout=5"),
                ], requestID: "req-1", into: &writer))
        let text = String(buffer: writer.finish())
        XCTAssertEqual(
            text,
            "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                + "X-Request-Id: req-1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        var broken = ResponseHeadWriter(version: .http1_1, status: 101, allocator: .init())
        XCTAssertFalse(
            HeaderRewriter.writeSwitchingHead(fields: [("Connection", "Upgrade")], requestID: "r", into: &broken))
    }

    func testWebSocketLimitsAreReadAndChecked() throws {
        let config = try ConfigLoader(environment: [:]).parse(
            text: """
                [wechat]
                [[wechat.apps]]
                appid = "wx1"
                secret = "s"
                [tokens]
                secret = "\(ProxyFixture.secret)"
                [websocket]
                idle_timeout = "2m"
                max_tunnels = 3
                buffer = "64KiB"
                """
        ).get()
        XCTAssertEqual(config.websocket.idleTimeout, .seconds(120))
        XCTAssertEqual(config.websocket.maxTunnels, 3)
        XCTAssertEqual(config.websocket.buffer.bytes, 64 << 10)
        XCTAssertEqual(config.websocket.maxTunnelsPerUser, 16)
        XCTAssertEqual(config.websocket.maxBuffered.bytes, 256 << 20)
        let bad = ConfigLoader(environment: [:]).parse(
            text: """
                [wechat]
                [[wechat.apps]]
                appid = "wx1"
                secret = "s"
                [tokens]
                secret = "\(ProxyFixture.secret)"
                [websocket]
                max_tunnels = 0
                buffer = "1KiB"
                idle = "1s"
                max_tunnels_per_user = 0
                max_buffered = "1KiB"
                """)
        guard case .failure(let issues) = bad else { return XCTFail("accepted") }
        let text = "\(issues)"
        XCTAssertTrue(text.contains("websocket.max_tunnels_per_user"), text)
        XCTAssertTrue(text.contains("websocket.max_buffered"), text)
        XCTAssertTrue(text.contains("websocket.max_tunnels"), text)
        XCTAssertTrue(text.contains("websocket.buffer"), text)
        XCTAssertTrue(text.contains("websocket.idle"), text)
    }

    func testMaxTunnelsCannotExceedMaxConnections() throws {
        let result = ConfigLoader(environment: [:]).parse(
            text: """
                [server]
                max_connections = 100
                [wechat]
                [[wechat.apps]]
                appid = "wx1"
                secret = "s"
                [tokens]
                secret = "\(ProxyFixture.secret)"
                [websocket]
                max_tunnels = 101
                max_tunnels_per_user = 4
                max_buffered = "16MiB"
                """)
        guard case .failure(let error) = result else { return XCTFail("accepted") }
        XCTAssertEqual(error.issues.map(\.path), ["websocket.max_tunnels"])
        XCTAssertTrue("\(error)".contains("server.max_connections"), "\(error)")
        // Unset, it follows a smaller max_connections.
        let followed = try ConfigLoader(environment: [:]).parse(
            text: """
                [server]
                max_connections = 100
                [wechat]
                [[wechat.apps]]
                appid = "wx1"
                secret = "s"
                [tokens]
                secret = "\(ProxyFixture.secret)"
                """
        ).get()
        XCTAssertEqual(followed.websocket.maxTunnels, 100)
    }
}
