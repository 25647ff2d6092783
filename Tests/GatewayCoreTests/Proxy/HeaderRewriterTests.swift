import NIOCore
import NIOHTTP1
import XCTest

@testable import GatewayCore

final class HeaderRewriterTests: XCTestCase {
    private let rewriter = HeaderRewriter(
        identity: IdentityConfig(), trustedProxies: [IPAddressRange(configText: "10.0.0.0/8")!])
    private let untrusted = ForwardingContext(peerAddress: "203.0.113.9", scheme: "https", requestID: "req-1")
    private let trusted = ForwardingContext(peerAddress: "10.1.2.3", scheme: "http", requestID: "req-2")
    private let caller = Identity(openid: "o-real", unionid: "u-real", appid: "wx-real", jti: "j")

    private func rewrite(
        _ pairs: [(String, String)], identity: Identity? = nil, forwardAuthorization: Bool = false,
        context: ForwardingContext? = nil
    ) -> [(name: String, value: String)] {
        rewriter.upstreamHeaders(
            for: HTTPHeaders(pairs), identity: identity, forwardAuthorization: forwardAuthorization,
            context: context ?? untrusted)
    }

    private func values(_ headers: [(name: String, value: String)], _ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    private func canonicalNames(_ headers: [(name: String, value: String)]) -> Set<String> {
        Set(headers.map { HeaderName.canonical($0.name) })
    }

    // MARK: identity headers

    func testAppKindReachesTheUpstreamAndClientCopiesAreStripped() {
        let forged = [("X-App-Kind", "website"), ("x_app_kind", "website"), ("X-APP-KIND", "officialaccount")]
        let web = Identity(openid: "o", appid: "wx-oa", appKind: .officialaccount)
        let result = rewrite(forged, identity: web)
        XCTAssertEqual(values(result, "X-App-Kind"), ["officialaccount"])
        XCTAssertTrue(values(result, "x_app_kind").isEmpty)
        XCTAssertEqual(values(rewrite(forged, identity: caller), "X-App-Kind"), ["miniprogram"])
        XCTAssertTrue(values(rewrite(forged, identity: nil), "X-App-Kind").isEmpty)
    }

    func testClientIdentityHeadersAreStrippedInEveryCaseAndCount() {
        let result = rewrite([
            ("X-OpenId", "forged1"), ("x-openid", "forged2"), ("X-OPENID", "forged3"),
            ("X-UnionId", "forged"), ("x-appid", "forged"), ("Accept", "*/*"),
        ])

        XCTAssertTrue(values(result, "X-OpenId").isEmpty)
        XCTAssertTrue(values(result, "X-UnionId").isEmpty)
        XCTAssertTrue(values(result, "X-AppId").isEmpty)
        XCTAssertEqual(values(result, "Accept"), ["*/*"])
    }

    func testClientIdentityHeadersWithUnderscoreSpellingAreStripped() {
        let result = rewrite([("X_OpenId", "forged"), ("x_unionid", "forged"), ("X_APPID", "forged")])

        XCTAssertFalse(result.contains { $0.value == "forged" })
    }

    func testClientIdentityHeadersAreReplacedByCallersIdentity() {
        let result = rewrite(
            [("X-OpenId", "forged"), ("X_OpenId", "forged"), ("X-UnionId", "forged")], identity: caller)

        XCTAssertEqual(values(result, "X-OpenId"), ["o-real"])
        XCTAssertEqual(values(result, "X-UnionId"), ["u-real"])
        XCTAssertEqual(values(result, "X-AppId"), ["wx-real"])
        XCTAssertFalse(result.contains { $0.name.contains("_") })
    }

    func testIdentityHeadersAreStrippedOnAnonymousRequests() {
        let result = rewrite([("X-OpenId", "forged"), ("X-AppId", "forged")], identity: nil)

        XCTAssertTrue(canonicalNames(result).isDisjoint(with: ["x-openid", "x-unionid", "x-appid"]))
    }

    func testUnionIdIsInjectedOnlyWhenTokenHasOne() {
        let result = rewrite([("X-UnionId", "forged")], identity: Identity(openid: "o-real", appid: "wx-real"))

        XCTAssertEqual(values(result, "X-OpenId"), ["o-real"])
        XCTAssertTrue(values(result, "X-UnionId").isEmpty)
        XCTAssertEqual(values(result, "X-AppId"), ["wx-real"])
    }

    func testConfiguredIdentityHeaderNamesAreStrippedAndInjected() {
        var identity = IdentityConfig()
        identity.openidHeader = "X-User"
        let rewriter = HeaderRewriter(identity: identity, trustedProxies: [])

        let result = rewriter.upstreamHeaders(
            for: HTTPHeaders([("x_user", "forged"), ("X-USER", "forged")]), identity: Identity(openid: "o-real"),
            forwardAuthorization: false, context: untrusted)

        XCTAssertEqual(values(result, "X-User"), ["o-real"])
        XCTAssertFalse(result.contains { $0.value == "forged" })
    }

    func testConnectionHeaderCannotStripInjectedIdentity() {
        let result = rewrite(
            [("Connection", "X-OpenId, X-AppId, X-Request-Id"), ("X-OpenId", "forged")], identity: caller)

        XCTAssertEqual(values(result, "X-OpenId"), ["o-real"])
        XCTAssertEqual(values(result, "X-AppId"), ["wx-real"])
        XCTAssertEqual(values(result, "X-Request-Id"), ["req-1"])
    }

    // MARK: hop-by-hop and Connection

    func testConnectionAndTheHeadersItNamesAreDropped() {
        let result = rewrite([
            ("Connection", "keep-alive, X-Secret-Hop"), ("connection", "X-Other-Hop"), ("X-Secret-Hop", "1"),
            ("x-other-hop", "2"), ("X-Kept", "3"),
        ])

        XCTAssertTrue(canonicalNames(result).isDisjoint(with: ["connection", "x-secret-hop", "x-other-hop"]))
        XCTAssertEqual(values(result, "X-Kept"), ["3"])
    }

    func testHopByHopHeadersAreDropped() {
        let result = rewrite([
            ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"), ("TE", "trailers"),
            ("Trailer", "X-Checksum"), ("Transfer-Encoding", "chunked"), ("Upgrade", "websocket"),
            ("Proxy-Authorization", "Basic Zm9vOmJhcg=="), ("Content-Length", "5"), ("Expect", "100-continue"),
            ("Accept", "*/*"),
        ])

        XCTAssertTrue(
            canonicalNames(result).isDisjoint(with: [
                "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
                "proxy-authorization", "content-length", "expect",
            ]))
        XCTAssertEqual(values(result, "Accept"), ["*/*"])
    }

    func testEndToEndHeadersKeepClientOrderAndSpelling() {
        let result = rewrite([("accept", "a"), ("X-Custom", "1"), ("Cookie", "a=1"), ("x-custom", "2")])

        let endToEnd = result.prefix(4).map { "\($0.name): \($0.value)" }
        XCTAssertEqual(endToEnd, ["accept: a", "X-Custom: 1", "Cookie: a=1", "x-custom: 2"])
    }

    // MARK: Authorization

    func testAuthorizationIsDroppedByDefault() {
        let result = rewrite([("Authorization", "Bearer secret-token")], identity: caller)

        XCTAssertTrue(values(result, "Authorization").isEmpty)
        XCTAssertFalse(result.contains { $0.value.contains("secret-token") })
    }

    func testAuthorizationIsForwardedWhenRouteAsks() {
        let result = rewrite([("Authorization", "Bearer secret-token")], identity: caller, forwardAuthorization: true)

        XCTAssertEqual(values(result, "Authorization"), ["Bearer secret-token"])
    }

    // MARK: X-Forwarded-*

    func testForwardedForFromUntrustedPeerIsReplacedByPeer() {
        let result = rewrite([("X-Forwarded-For", "1.2.3.4"), ("Forwarded", "for=1.2.3.4")])

        XCTAssertEqual(values(result, "X-Forwarded-For"), ["203.0.113.9"])
        XCTAssertTrue(values(result, "Forwarded").isEmpty)
    }

    func testForwardedForFromTrustedProxyIsAppendedTo() {
        let result = rewrite(
            [("X-Forwarded-For", "1.2.3.4, 5.6.7.8"), ("X-Forwarded-For", "9.9.9.9")], context: trusted)

        XCTAssertEqual(values(result, "X-Forwarded-For"), ["1.2.3.4, 5.6.7.8, 9.9.9.9, 10.1.2.3"])
    }

    func testForwardedProtoAndHostFromUntrustedPeerAreReplaced() {
        let result = rewrite([
            ("Host", "api.example.com"), ("X-Forwarded-Proto", "http"), ("X-Forwarded-Host", "evil.example"),
        ])

        XCTAssertEqual(values(result, "X-Forwarded-Proto"), ["https"])
        XCTAssertEqual(values(result, "X-Forwarded-Host"), ["api.example.com"])
        XCTAssertEqual(values(result, "Host"), ["api.example.com"])
    }

    func testForwardedProtoAndHostFromTrustedProxyAreKept() {
        let result = rewrite(
            [("Host", "internal:8080"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "www.example.com")],
            context: trusted)

        XCTAssertEqual(values(result, "X-Forwarded-Proto"), ["https"])
        XCTAssertEqual(values(result, "X-Forwarded-Host"), ["www.example.com"])
    }

    func testForwardedForIsOmittedWithoutPeerAddress() {
        let context = ForwardingContext(peerAddress: nil, scheme: "http", requestID: "r")
        let result = rewrite([("X-Forwarded-For", "1.2.3.4")], context: context)

        XCTAssertTrue(values(result, "X-Forwarded-For").isEmpty)
        XCTAssertEqual(values(result, "X-Forwarded-Proto"), ["http"])
    }

    // MARK: X-Request-Id

    func testRequestIdFromContextReplacesClientCopies() {
        let result = rewrite([("X-Request-Id", "client-1"), ("x-request-id", "client-2")])

        XCTAssertEqual(values(result, "X-Request-Id"), ["req-1"])
    }

    // MARK: response side

    /// The client head written for an upstream answer, parsed back: status line, fields, and what the gateway decided.
    private func clientHead(
        _ fields: [(String, String)], status: Int = 200, version: HTTPVersion = .http1_1, keepAlive: Bool = true,
        isHeadRequest: Bool = false
    ) -> (statusLine: String, fields: HTTPHeaders, framing: ResponseFraming, closes: Bool)? {
        var writer = ResponseHeadWriter(version: version, status: status, allocator: ByteBufferAllocator())
        guard
            let (framing, closes) = HeaderRewriter.writeClientHead(
                status: status, fields: fields.map { (name: $0.0, value: $0.1) }, requestID: "req-1",
                version: version, keepAlive: keepAlive, isHeadRequest: isHeadRequest, into: &writer)
        else { return nil }
        var bytes = writer.finish()
        let text = bytes.readString(length: bytes.readableBytes)!
        XCTAssertTrue(text.hasSuffix("\r\n\r\n"), text)
        var lines = String(decoding: text.utf8.dropLast(4), as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        var headers = HTTPHeaders()
        for line in lines {
            let colon = line.firstIndex(of: ":")!
            XCTAssertEqual(line[line.index(after: colon)...].first, " ", line)
            headers.add(name: String(line[..<colon]), value: String(line[line.index(colon, offsetBy: 2)...]))
        }
        return (statusLine, headers, framing, closes)
    }

    func testResponseHopByHopAndTransferEncodingAreDropped() throws {
        let head = try XCTUnwrap(
            clientHead([
                ("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked"), ("Connection", "keep-alive, X-Hop"),
                ("Keep-Alive", "timeout=5"), ("X-Hop", "1"), ("Upgrade", "h2c"), ("Trailer", "X-Sum"),
                ("Proxy-Authenticate", "Basic"),
            ]))

        XCTAssertEqual(head.statusLine, "HTTP/1.1 200 OK")
        XCTAssertEqual(head.fields["Content-Type"], ["text/plain"])
        for name in ["Connection", "Keep-Alive", "X-Hop", "Upgrade", "Trailer", "Proxy-Authenticate"] {
            XCTAssertFalse(head.fields.contains(name: name), name)
        }
        // The upstream's chunking is gone; the gateway chunks the de-chunked body itself.
        XCTAssertEqual(head.fields["Transfer-Encoding"], ["chunked"])
        XCTAssertEqual(head.framing, .chunked)
    }

    func testResponseSetCookiesAreKeptApart() throws {
        let head = try XCTUnwrap(
            clientHead([
                ("Set-Cookie", "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT"), ("Set-Cookie", "b=2"),
                ("Content-Length", "0"),
            ]))

        XCTAssertEqual(head.fields["Set-Cookie"], ["a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "b=2"])
    }

    func testResponseGetsRequestIdAndKeepsItsLength() throws {
        let head = try XCTUnwrap(clientHead([("Content-Length", "2")]))

        XCTAssertEqual(head.fields["X-Request-Id"], ["req-1"])
        XCTAssertEqual(head.fields["Content-Length"], ["2"])
        XCTAssertFalse(head.fields.contains(name: "Transfer-Encoding"))
        XCTAssertFalse(head.fields.contains(name: "Connection"))
        XCTAssertEqual(head.framing, .contentLength)
        XCTAssertFalse(head.closes)
    }

    func testLengthSentWithATransferEncodingIsNotPassedOn() throws {
        let head = try XCTUnwrap(clientHead([("Content-Length", "5"), ("Transfer-Encoding", "chunked")]))

        XCTAssertFalse(head.fields.contains(name: "Content-Length"))
        XCTAssertEqual(head.fields["Transfer-Encoding"], ["chunked"])
        XCTAssertEqual(head.framing, .chunked)

        let old = try XCTUnwrap(
            clientHead([("transfer-encoding", "chunked"), ("Content-Length", "5")], version: .http1_0))
        XCTAssertFalse(old.fields.contains(name: "Content-Length"))
        XCTAssertEqual(old.framing, .untilClose)
    }

    func testDisagreeingLengthsAreABrokenAnswerAndRepeatsBecomeOne() throws {
        XCTAssertNil(clientHead([("Content-Length", "5"), ("Content-Length", "10")]))
        XCTAssertNil(clientHead([("Content-Length", "5, 10")]))
        XCTAssertNil(clientHead([("Content-Length", "-1")]))
        XCTAssertNil(
            clientHead([("Content-Length", "99999999999999999999999")]), "libcurl ignores a length past 64 bits")
        let largest = clientHead([("Content-Length", "9223372036854775807")])
        XCTAssertEqual(largest?.framing, .contentLength)
        XCTAssertEqual(largest?.fields["Content-Length"], ["9223372036854775807"])
        // An answer without a body has its framing fields dropped unread, as a Transfer-Encoding is.
        let notModified = try XCTUnwrap(clientHead([("Content-Length", "5, 10")], status: 304))
        XCTAssertFalse(notModified.fields.contains(name: "Content-Length"))
        let repeated = try XCTUnwrap(clientHead([("Content-Length", "5, 5"), ("content-length", "5")]))
        XCTAssertEqual(repeated.fields["Content-Length"], ["5"])
        XCTAssertEqual(repeated.framing, .contentLength)
    }

    func testTransferCodingsOtherThanOneChunkedAreABrokenAnswer() throws {
        // libcurl removes only the chunking: the client would get coded bytes it could not know to decode.
        XCTAssertNil(clientHead([("Transfer-Encoding", "gzip, chunked")]))
        XCTAssertNil(clientHead([("Transfer-Encoding", "foo, chunked")]))
        XCTAssertNil(clientHead([("Transfer-Encoding", "gzip")]))
        XCTAssertNil(clientHead([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")]))
        XCTAssertNil(clientHead([("Transfer-Encoding", "chunked, chunked")]))
        XCTAssertEqual(clientHead([("Transfer-Encoding", " Chunked ")])?.framing, .chunked)
        XCTAssertEqual(
            clientHead([("Transfer-Encoding", "chunked,")])?.framing, .chunked, "an empty list element is no coding")
        // Without a body the field is dropped, whatever it names.
        let notModified = clientHead([("Transfer-Encoding", "gzip")], status: 304)
        XCTAssertEqual(notModified?.framing, .noBody)
        XCTAssertEqual(notModified?.fields.contains(name: "Transfer-Encoding"), false)
    }

    func testResponseKeepsTheUpstreamsDateOrGetsOne() throws {
        let dated = try XCTUnwrap(clientHead([("date", "Sun, 06 Nov 1994 08:49:37 GMT"), ("Content-Length", "0")]))
        XCTAssertEqual(dated.fields["Date"], ["Sun, 06 Nov 1994 08:49:37 GMT"])
        let undated = try XCTUnwrap(clientHead([("Content-Length", "0")]))
        XCTAssertEqual(undated.fields["Date"].count, 1, "RFC 9110 section 6.6.1: the proxy adds one")
    }

    func testResponseKeepsUpstreamsRequestIdWithoutDuplicate() throws {
        let head = try XCTUnwrap(clientHead([("x-request-id", "req-1"), ("Content-Length", "0")]))

        XCTAssertEqual(head.fields["X-Request-Id"], ["req-1"])
    }

    func testResponsesWithoutABodyLoseTheirFramingFields() throws {
        for status in [204, 304] {
            let head = try XCTUnwrap(clientHead([("Content-Length", "10"), ("ETag", "\"x\"")], status: status))

            XCTAssertFalse(head.fields.contains(name: "Content-Length"), "\(status)")
            XCTAssertFalse(head.fields.contains(name: "Transfer-Encoding"), "\(status)")
            XCTAssertEqual(head.fields["ETag"], ["\"x\""])
            XCTAssertEqual(head.framing, .noBody)
        }
    }

    func testHTTP10AnswerWithoutLengthEndsWithTheConnection() throws {
        let head = try XCTUnwrap(clientHead([("Content-Type", "text/plain")], version: .http1_0))

        XCTAssertEqual(head.statusLine, "HTTP/1.0 200 OK")
        XCTAssertEqual(head.framing, .untilClose)
        XCTAssertTrue(head.closes)
        XCTAssertEqual(head.fields["Connection"], ["close"])
        XCTAssertFalse(head.fields.contains(name: "Transfer-Encoding"))
    }

    func testHTTP10KeepAliveIsSaidAndHTTP11CloseIsSaid() throws {
        let kept = try XCTUnwrap(clientHead([("Content-Length", "1")], version: .http1_0))
        XCTAssertEqual(kept.fields["Connection"], ["keep-alive"])
        XCTAssertFalse(kept.closes)

        let closed = try XCTUnwrap(clientHead([("Content-Length", "1")], keepAlive: false))
        XCTAssertEqual(closed.fields["Connection"], ["close"])
        XCTAssertTrue(closed.closes)
    }

    func testHeadAnswerWithoutLengthNeedsNoClose() throws {
        let head = try XCTUnwrap(clientHead([("Content-Type", "text/plain")], version: .http1_0, isHeadRequest: true))

        XCTAssertFalse(head.closes)
        XCTAssertEqual(head.fields["Connection"], ["keep-alive"])
    }

    func testStatusLineUsesTheStandardReasonPhrase() throws {
        XCTAssertEqual(try XCTUnwrap(clientHead([], status: 404)).statusLine, "HTTP/1.1 404 Not Found")
        XCTAssertEqual(try XCTUnwrap(clientHead([], status: 599)).statusLine, "HTTP/1.1 599 ")
    }
}

extension HeaderRewriterTests {
    func testUpstreamHeadersWithControlCharactersOrBadNamesAreNotRelayable() {
        let relayed = clientHead([("Content-Type", "text/plain"), ("X-Tab", "a\tb"), ("X-Utf8", "é")])
        XCTAssertEqual(relayed?.fields["X-Tab"], ["a\tb"])
        XCTAssertEqual(relayed?.fields["X-Utf8"], ["é"])
        XCTAssertNil(clientHead([("X-Broken", "a\u{01}b")]))
        XCTAssertNil(clientHead([("X-Split", "a\r\nSet-Cookie: evil=1")]))
        XCTAssertNil(clientHead([("Bad Name", "v")]))
        XCTAssertNil(clientHead([("", "v")]))
        XCTAssertNil(clientHead([("X-Del", "a\u{7F}")]))
        XCTAssertNil(clientHead([("Content-Length", "1"), ("X-Ok", "v"), ("X\u{80}", "v")]))
    }

    func testFieldNamesListedInAConnectionValueLeaveOutItsOptions() {
        func names(_ value: String) -> [String] {
            var names: [String] = []
            HeaderRewriter.appendNames(listedIn: value, to: &names)
            return names
        }
        XCTAssertEqual(names("keep-alive"), [])
        XCTAssertEqual(names("Close"), [])
        XCTAssertEqual(names(""), [])
        XCTAssertEqual(names(" , ,\t"), [])
        XCTAssertEqual(names("Keep-Alive, X-Foo ,\tx-BAR\t,close"), ["x-foo", "x-bar"])
        XCTAssertEqual(names("X-Only"), ["x-only"])
    }
}
