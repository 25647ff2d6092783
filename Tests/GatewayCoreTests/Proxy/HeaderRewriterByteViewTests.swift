import XCTest

@testable import GatewayCore

/// The engine's byte view of `HeaderRewriter`'s rules (issue 23) decides as the String rules do, name by name.
final class HeaderRewriterByteViewTests: XCTestCase {
    private static let names = [
        "TE", "te", "Host", "HOST", "Expect", "Trailer", "Upgrade", "Forwarded", "Connection", "Keep-Alive",
        "X-Request-Id", "x-request-id", "Authorization", "Content-Length", "HTTP2-Settings", "X-Forwarded-For",
        "X-Gateway-Error", "X-Forwarded-Host", "Proxy-Connection", "Transfer-Encoding", "X-Forwarded-Proto",
        "Proxy-Authenticate", "Proxy-Authorization", "Date", "Server", "Content-Type", "Set-Cookie", "X-OpenId",
        "x_openid", "X-UnionId", "X-AppId", "Accept", "User-Agent", "Tee", "Hosts", "", "X-Forwarded-Fox",
    ]

    private func bytes<T>(_ name: String, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        Array(name.utf8).withUnsafeBytes(body)
    }

    func testByteClassificationEqualsTheStringOne() {
        for name in Self.names {
            XCTAssertEqual(bytes(name) { HeaderRewriter.classify(bytes: $0) }, HeaderRewriter.classify(name), name)
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
