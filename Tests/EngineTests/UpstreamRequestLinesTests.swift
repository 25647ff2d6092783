import Foundation
import GatewayCore
import XCTest

@testable import Engine

/// The header list the upstream receives, as libcurl is handed it (`UpstreamRequestLines`), from heads parsed as the
/// worker parses them (moved from `HeaderRewriterTests`, whose String rewrite the engine replaced; README.md, "What the
/// upstream receives"). Identity headers go in every spelling and count before the gateway adds its own; the client's
/// `Connection` cannot strip them; X-Forwarded-* are the gateway's unless the peer is a trusted proxy.
final class UpstreamRequestLinesTests: XCTestCase {
    private var runtime: GatewayRuntime!

    override func setUpWithError() throws {
        runtime = try EnginePlannerFixture.runtime(
            """
            [[routes]]
            prefix = "/fwd/"
            upstreams = ["http://127.0.0.1:9004"]
            forward_authorization = true
            """)
    }

    /// The upstream's lines for `fields` on the `/open/` route (no auth), or `path` with a caller's token.
    private func lines(
        _ fields: [(String, String)], path: String = "/open/x", runtime: GatewayRuntime? = nil,
        peer: String = "203.0.113.9", trustedPeer: Bool = false, overTLS: Bool = true
    ) -> [String] {
        EnginePlannerFixture.upstreamRequest(
            runtime ?? self.runtime, "GET \(path) HTTP/1.1", fields, host: "api.example.com", overTLS: overTLS,
            peer: peer, trustedPeer: trustedPeer)?.lines ?? ["(not forwarded)"]
    }

    private func withToken(_ fields: [(String, String)]) throws -> [(String, String)] {
        [("Authorization", "Bearer \(try EnginePlannerFixture.token())")] + fields
    }

    /// The values of the lines named `name` (any case); libcurl's `Name:` (remove that header) has none.
    private func values(_ lines: [String], _ name: String) -> [String] {
        lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == name.lowercased() else {
                return nil
            }
            let value = line[line.index(after: colon)...]
            return value.isEmpty ? nil : String(value.dropFirst())
        }
    }

    private func names(_ lines: [String]) -> Set<String> {
        Set(lines.compactMap { $0.split(separator: ":").first.map { HeaderName.canonical(String($0)) } })
    }

    // MARK: identity headers

    func testAppKindReachesTheUpstreamAndClientCopiesAreStripped() throws {
        let forged = [("X-App-Kind", "website"), ("x_app_kind", "website"), ("X-APP-KIND", "officialaccount")]
        let verified = lines(try withToken(forged), path: "/api/x")
        XCTAssertEqual(values(verified, "X-App-Kind"), ["miniprogram"])
        XCTAssertTrue(values(verified, "x_app_kind").isEmpty)
        XCTAssertTrue(values(lines(forged), "X-App-Kind").isEmpty)
    }

    func testClientIdentityHeadersAreStrippedInEveryCaseCountAndSpelling() {
        let result = lines([
            ("X-OpenId", "forged1"), ("x-openid", "forged2"), ("X-OPENID", "forged3"), ("X-UnionId", "forged"),
            ("x-appid", "forged"), ("X_OpenId", "forged"), ("x_unionid", "forged"), ("X_APPID", "forged"),
            ("Accept", "*/*"),
        ])
        XCTAssertTrue(names(result).isDisjoint(with: ["x-openid", "x-unionid", "x-appid"]), "\(result)")
        XCTAssertFalse(result.contains { $0.contains("forged") }, "\(result)")
        XCTAssertEqual(values(result, "Accept"), ["*/*"])
    }

    func testClientIdentityHeadersAreReplacedByTheCallersIdentity() throws {
        let result = lines(
            try withToken([("X-OpenId", "forged"), ("X_OpenId", "forged"), ("X-UnionId", "forged")]), path: "/api/x")
        XCTAssertEqual(values(result, "X-OpenId"), ["o-alice"])
        XCTAssertEqual(values(result, "X-AppId"), ["wx1"])
        // The token has no unionid: none is injected, and the client's is gone.
        XCTAssertTrue(values(result, "X-UnionId").isEmpty, "\(result)")
        XCTAssertFalse(result.contains { $0.hasPrefix("X_") || $0.contains("forged") }, "\(result)")
    }

    func testConfiguredIdentityHeaderNamesAreStrippedAndInjected() throws {
        let renamed = try EnginePlannerFixture.runtime(
            """
            [identity]
            openid_header = "X-User"
            """)
        let result = lines(
            try withToken([("x_user", "forged"), ("X-USER", "forged")]), path: "/api/x", runtime: renamed)
        XCTAssertEqual(values(result, "X-User"), ["o-alice"])
        XCTAssertFalse(result.contains { $0.contains("forged") }, "\(result)")
    }

    func testConnectionCannotStripTheInjectedIdentity() throws {
        let result = lines(
            try withToken([("Connection", "X-OpenId, X-AppId, X-Request-Id"), ("X-OpenId", "forged")]),
            path: "/api/x")
        XCTAssertEqual(values(result, "X-OpenId"), ["o-alice"])
        XCTAssertEqual(values(result, "X-AppId"), ["wx1"])
        XCTAssertEqual(values(result, "X-Request-Id").count, 1, "\(result)")
    }

    // MARK: hop-by-hop and Connection

    func testConnectionAndTheFieldsItNamesAreDropped() {
        let result = lines([
            ("Connection", "keep-alive, X-Secret-Hop"), ("connection", "X-Other-Hop"), ("X-Secret-Hop", "1"),
            ("x-other-hop", "2"), ("X-Kept", "3"),
        ])
        XCTAssertTrue(names(result).isDisjoint(with: ["connection", "x-secret-hop", "x-other-hop"]), "\(result)")
        XCTAssertEqual(values(result, "X-Kept"), ["3"])
    }

    func testHopByHopAndGatewayOwnedFieldsAreDropped() {
        let result = lines([
            ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"), ("TE", "trailers"),
            ("Trailer", "X-Checksum"), ("Transfer-Encoding", "chunked"), ("Upgrade", "websocket"),
            ("Proxy-Authorization", "Basic Zm9vOmJhcg=="), ("Expect", "100-continue"),
            ("HTTP2-Settings", "AAMAAABkAAQAAP__"), ("Accept", "*/*"),
        ])
        // libcurl frames the body it streams: the client's length is not passed on (a head with both is refused).
        XCTAssertTrue(values(lines([("Content-Length", "5")]), "Content-Length").isEmpty)
        XCTAssertTrue(
            names(result).isDisjoint(with: [
                "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
                "proxy-authorization", "content-length", "http2-settings",
            ]), "\(result)")
        // `Expect:` with no value is libcurl's "send no Expect", not the client's.
        XCTAssertEqual(result.filter { $0.lowercased().hasPrefix("expect") }, ["Expect:"])
        XCTAssertEqual(values(result, "Accept"), ["*/*"], "\(result)")
    }

    func testEndToEndFieldsKeepTheClientsOrderAndSpelling() {
        let result = lines([("accept", "a"), ("X-Custom", "1"), ("Cookie", "a=1"), ("x-custom", "2")])
        XCTAssertEqual(
            Array(result.prefix(5)),
            ["Host: api.example.com", "accept: a", "X-Custom: 1", "Cookie: a=1", "x-custom: 2"])
    }

    // MARK: Authorization

    func testAuthorizationIsDroppedByDefaultAndForwardedWhenTheRouteAsks() throws {
        let token = try EnginePlannerFixture.token()
        let dropped = lines([("Authorization", "Bearer \(token)")], path: "/api/x")
        XCTAssertTrue(values(dropped, "Authorization").isEmpty, "\(dropped)")
        XCTAssertFalse(dropped.contains { $0.contains(token) })
        let forwarded = lines([("Authorization", "Bearer \(token)")], path: "/fwd/x")
        XCTAssertEqual(values(forwarded, "Authorization"), ["Bearer \(token)"])
    }

    // MARK: X-Forwarded-*

    func testAnUntrustedPeersForwardedFieldsAreReplacedByTheGateways() {
        let result = lines([
            ("X-Forwarded-For", "1.2.3.4"), ("Forwarded", "for=1.2.3.4"), ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-Host", "evil.example"),
        ])
        XCTAssertEqual(values(result, "X-Forwarded-For"), ["203.0.113.9"])
        XCTAssertTrue(values(result, "Forwarded").isEmpty)
        XCTAssertEqual(values(result, "X-Forwarded-Proto"), ["https"])
        XCTAssertEqual(values(result, "X-Forwarded-Host"), ["api.example.com"])
        XCTAssertEqual(values(result, "Host"), ["api.example.com"])
        XCTAssertEqual(values(lines([], overTLS: false), "X-Forwarded-Proto"), ["http"])
    }

    func testATrustedProxysListIsAppendedToAndItsProtoAndHostKept() {
        let result = lines(
            [
                ("X-Forwarded-For", "1.2.3.4, 5.6.7.8"), ("X-Forwarded-For", "9.9.9.9"), ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Host", "www.example.com"),
            ], peer: "10.1.2.3", trustedPeer: true, overTLS: false)
        XCTAssertEqual(values(result, "X-Forwarded-For"), ["1.2.3.4, 5.6.7.8, 9.9.9.9, 10.1.2.3"])
        XCTAssertEqual(values(result, "X-Forwarded-Proto"), ["https"])
        XCTAssertEqual(values(result, "X-Forwarded-Host"), ["www.example.com"])
    }

    /// W3C Trace Context: the upstream gets the gateway's `traceparent` (its span the parent) and the caller's
    /// `tracestate`, in place of the client's copies in any case (moved from `RequestTracerTests`).
    func testTheGatewaysTraceparentReplacesTheClientsInAnyCase() {
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let fields = [("TraceParent", incoming), ("tracestate", "vendor=1"), ("Accept", "*/*")]
        let result =
            EnginePlannerFixture.upstreamRequest(runtime, "GET /open/x HTTP/1.1", fields, traced: true)?.lines ?? []
        let traceparents = values(result, "traceparent")
        XCTAssertEqual(traceparents.count, 1, "\(result)")
        XCTAssertTrue(traceparents[0].hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "\(result)")
        XCTAssertFalse(traceparents[0].contains("00f067aa0ba902b7"), "the gateway's span is the parent")
        XCTAssertFalse(result.contains { $0.hasPrefix("TraceParent") }, "\(result)")
        XCTAssertEqual(values(result, "tracestate"), ["vendor=1"])
        XCTAssertEqual(values(result, "Accept"), ["*/*"])
    }

    // MARK: X-Request-Id and the gateway's mark

    func testTheRequestsIdReplacesEveryClientCopy() {
        let result = lines([("X-Request-Id", "client-1"), ("x-request-id", "client-2")])
        XCTAssertEqual(values(result, "X-Request-Id"), ["client-1"], "the first sane copy is the request's id")
        let generated = lines([("X-Request-Id", "bad id with spaces"), ("x-request-id", "client-2")])
        XCTAssertEqual(values(generated, "X-Request-Id").count, 1, "\(generated)")
        XCTAssertFalse(generated.contains { $0.contains("client-2") || $0.contains("bad id") }, "\(generated)")
    }

    /// Only answers are marked (`X-Gateway-Error`): a request field of that name means nothing to the gateway.
    func testAClientsCopyOfTheMarkIsPassedUpstreamAsAnyOtherField() {
        XCTAssertEqual(values(lines([("X-Gateway-Error", "client")]), "X-Gateway-Error"), ["client"])
    }
}
