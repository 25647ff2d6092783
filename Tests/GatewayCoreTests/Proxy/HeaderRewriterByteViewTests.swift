import XCTest

@testable import GatewayCore

/// `HeaderRewriter`'s rules on the bytes of a field name, as the engine reads a head (issue 23), name by name.
final class HeaderRewriterByteViewTests: XCTestCase {
    /// Every name the table knows, in several cases, and near misses (the String table this was checked against went
    /// with the NIO path; its kinds are these rows).
    private static let kinds: [(String, HeaderRewriter.RequestHeaderKind)] = [
        ("TE", .hopByHop), ("te", .hopByHop), ("Host", .host), ("HOST", .host), ("Expect", .gatewayOwned),
        ("Trailer", .hopByHop), ("Upgrade", .hopByHop), ("Forwarded", .gatewayOwned), ("Connection", .hopByHop),
        ("Keep-Alive", .hopByHop), ("X-Request-Id", .gatewayOwned), ("x-request-id", .gatewayOwned),
        ("Authorization", .authorization), ("Content-Length", .gatewayOwned), ("HTTP2-Settings", .hopByHop),
        ("X-Forwarded-For", .forwardedFor), ("X-Forwarded-Host", .forwardedHost), ("Proxy-Connection", .hopByHop),
        ("Transfer-Encoding", .hopByHop), ("X-Forwarded-Proto", .forwardedProto), ("Proxy-Authenticate", .hopByHop),
        ("Proxy-Authorization", .hopByHop), ("Date", .other), ("Server", .other), ("Content-Type", .other),
        ("Set-Cookie", .other), ("X-OpenId", .other), ("x_openid", .other), ("X-UnionId", .other), ("X-AppId", .other),
        ("Accept", .other), ("User-Agent", .other), ("Tee", .other), ("Hosts", .other), ("", .other),
        ("X-Forwarded-Fox", .other),
        // The gateway's mark (`GatewayError.markField`) in every spelling an upstream might try.
        ("X-Gateway-Error", .gatewayMark), ("x-gateway-error", .gatewayMark), ("X-GATEWAY-ERROR", .gatewayMark),
        ("x-GaTeWaY-eRrOr", .gatewayMark), (GatewayError.markField, .gatewayMark), ("X-Gateway-Errors", .other),
    ]

    private func bytes<T>(_ name: String, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        Array(name.utf8).withUnsafeBytes(body)
    }

    func testEveryNameIsClassifiedInAnyCase() {
        for (name, kind) in Self.kinds {
            XCTAssertEqual(bytes(name) { HeaderRewriter.classify(bytes: $0) }, kind, name)
        }
    }

    func testIdentityHeadersAreDroppedInEverySpelling() {
        let rewriter = HeaderRewriter(identity: IdentityConfig(), trustedProxies: [])
        for name in ["X-OpenId", "x_openid", "X-OPENID", "X-UnionId", "x-appid", "X-App-Kind", "x_app_kind"] {
            XCTAssertEqual(bytes(name) { rewriter.requestFieldRule(name: $0) }, .drop, name)
        }
        XCTAssertEqual(bytes("X-OpenIds") { rewriter.requestFieldRule(name: $0) }, .forward)
    }

    func testRequestAndResponseRules() {
        let rewriter = HeaderRewriter(identity: IdentityConfig(), trustedProxies: [])
        XCTAssertEqual(bytes("Connection") { rewriter.requestFieldRule(name: $0) }, .connection)
        XCTAssertEqual(bytes("authorization") { rewriter.requestFieldRule(name: $0) }, .authorization)
        XCTAssertEqual(bytes("X-Request-Id") { rewriter.requestFieldRule(name: $0) }, .requestID)
        XCTAssertEqual(bytes("X-Forwarded-For") { rewriter.requestFieldRule(name: $0) }, .drop)
        XCTAssertEqual(bytes("Transfer-Encoding") { HeaderRewriter.responseFieldRule(name: $0) }, .transferEncoding)
        XCTAssertEqual(bytes("Content-Length") { HeaderRewriter.responseFieldRule(name: $0) }, .contentLength)
        XCTAssertEqual(bytes("X-Gateway-Error") { HeaderRewriter.responseFieldRule(name: $0) }, .drop)
        XCTAssertEqual(bytes("DATE") { HeaderRewriter.responseFieldRule(name: $0) }, .date)
        XCTAssertEqual(bytes("Server") { HeaderRewriter.responseFieldRule(name: $0) }, .pass)
    }
}
