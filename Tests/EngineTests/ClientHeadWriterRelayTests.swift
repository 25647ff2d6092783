import XCTest

@testable import Engine

/// The client's head for an upstream's answer as the worker writes it (`ClientHeadWriter.inspect`, the connection's
/// framing, `writeHead`), moved from `HeaderRewriterTests` and `HeaderRewriterGatewayMarkTests` when the String
/// rewrite of the NIO path was deleted: hop-by-hop fields dropped, the framing the gateway's own, a broken answer
/// (502) for fields that may not be passed on, and the gateway's mark (`X-Gateway-Error`) never from an upstream.
final class ClientHeadWriterRelayTests: XCTestCase {
    struct Written {
        var statusLine: String
        var fields: [(name: String, value: String)]
        var framing: EngineConnection.BodyFraming
        var closes: Bool

        func values(_ name: String) -> [String] {
            fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }

        func has(_ name: String) -> Bool { !values(name).isEmpty }
    }

    /// The head written for an answer of `status` with `fields`, parsed back; nil when the worker would abort the
    /// transfer and answer 502 instead.
    private func written(
        _ fields: [(String, String)], status: Int = 200, isHTTP10: Bool = false, keepAlive: Bool = true,
        isHead: Bool = false
    ) -> Written? {
        var upstream = UpstreamHead()
        let lines = ["HTTP/1.1 \(status) X"] + fields.map { "\($0.0): \($0.1)" } + [""]
        for line in lines {
            _ = Array((line + "\r\n").utf8).withUnsafeBytes { upstream.receive($0) }
        }
        XCTAssertEqual(upstream.status, status)
        let inspection = ClientHeadWriter.inspect(upstream)
        var connection = EngineConnection()
        let shape = EngineConnection.RequestShape(keepAlive: keepAlive, isHead: isHead, isHTTP10: isHTTP10)
        _ = connection.headReceived(shape, forward: true)
        let action = connection.upstreamHeadReceived(
            status: status, hasContentLength: inspection.contentLength != nil, passable: inspection.passable)
        guard case .writeHead(let framing, let closes) = action else { return nil }
        var out: [UInt8] = []
        ClientHeadWriter.writeHead(
            upstream, contentLength: inspection.contentLength, framing: framing, closes: closes, requestID: "req-1",
            isHTTP10: isHTTP10, into: &out)
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertTrue(text.hasSuffix("\r\n\r\n"), text)
        // "\r\n" is one Character: the last two are the blank line.
        var parsed = text.dropLast(2).components(separatedBy: "\r\n")
        let statusLine = parsed.removeFirst()
        let pairs = parsed.map { line -> (name: String, value: String) in
            let colon = line.firstIndex(of: ":")!
            XCTAssertEqual(line[line.index(after: colon)...].first, " ", line)
            return (String(line[..<colon]), String(line[line.index(colon, offsetBy: 2)...]))
        }
        return Written(statusLine: statusLine, fields: pairs, framing: framing, closes: closes)
    }

    func testHopByHopFieldsGoAndTheGatewayChunksTheDechunkedBody() throws {
        let head = try XCTUnwrap(
            written([
                ("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked"), ("Connection", "keep-alive, X-Hop"),
                ("Keep-Alive", "timeout=5"), ("X-Hop", "1"), ("Upgrade", "h2c"), ("Trailer", "X-Sum"),
                ("Proxy-Authenticate", "Basic"),
            ]))
        XCTAssertEqual(head.statusLine, "HTTP/1.1 200 OK")
        XCTAssertEqual(head.values("Content-Type"), ["text/plain"])
        for name in ["Connection", "Keep-Alive", "X-Hop", "Upgrade", "Trailer", "Proxy-Authenticate"] {
            XCTAssertFalse(head.has(name), name)
        }
        XCTAssertEqual(head.values("Transfer-Encoding"), ["chunked"])
        XCTAssertEqual(head.framing, .chunked)
    }

    func testSetCookiesAreKeptApart() throws {
        let head = try XCTUnwrap(
            written([
                ("Set-Cookie", "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT"), ("Set-Cookie", "b=2"),
                ("Content-Length", "0"),
            ]))
        XCTAssertEqual(head.values("Set-Cookie"), ["a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "b=2"])
    }

    func testAnAnswerGetsTheRequestIDAndKeepsItsLength() throws {
        let head = try XCTUnwrap(written([("Content-Length", "2")]))
        XCTAssertEqual(head.values("X-Request-Id"), ["req-1"])
        XCTAssertEqual(head.values("Content-Length"), ["2"])
        XCTAssertFalse(head.has("Transfer-Encoding"))
        XCTAssertFalse(head.has("Connection"))
        XCTAssertEqual(head.framing, .length)
        XCTAssertFalse(head.closes)
        let own = try XCTUnwrap(written([("x-request-id", "req-1"), ("Content-Length", "0")]))
        XCTAssertEqual(own.values("X-Request-Id"), ["req-1"], "the upstream's copy, not a second one")
    }

    func testALengthSentWithATransferEncodingIsNotPassedOn() throws {
        let head = try XCTUnwrap(written([("Content-Length", "5"), ("Transfer-Encoding", "chunked")]))
        XCTAssertFalse(head.has("Content-Length"))
        XCTAssertEqual(head.values("Transfer-Encoding"), ["chunked"])
        let old = try XCTUnwrap(written([("transfer-encoding", "chunked"), ("Content-Length", "5")], isHTTP10: true))
        XCTAssertFalse(old.has("Content-Length"))
        XCTAssertEqual(old.framing, .untilClose)
    }

    func testDisagreeingLengthsAreABrokenAnswerAndRepeatsBecomeOne() throws {
        XCTAssertNil(written([("Content-Length", "5"), ("Content-Length", "10")]))
        XCTAssertNil(written([("Content-Length", "5, 10")]))
        XCTAssertNil(written([("Content-Length", "-1")]))
        XCTAssertNil(written([("Content-Length", "99999999999999999999999")]), "libcurl ignores a length past 64 bits")
        let largest = written([("Content-Length", "9223372036854775807")])
        XCTAssertEqual(largest?.framing, .length)
        XCTAssertEqual(largest?.values("Content-Length"), ["9223372036854775807"])
        // An answer without a body has its framing fields dropped unread.
        let notModified = try XCTUnwrap(written([("Content-Length", "5, 10")], status: 304))
        XCTAssertFalse(notModified.has("Content-Length"))
        let repeated = try XCTUnwrap(written([("Content-Length", "5, 5"), ("content-length", "5")]))
        XCTAssertEqual(repeated.values("Content-Length"), ["5"])
        XCTAssertEqual(repeated.framing, .length)
    }

    func testTransferCodingsOtherThanOneChunkedAreABrokenAnswer() {
        // libcurl removes only the chunking: the client would get coded bytes it could not know to decode.
        XCTAssertNil(written([("Transfer-Encoding", "gzip, chunked")]))
        XCTAssertNil(written([("Transfer-Encoding", "foo, chunked")]))
        XCTAssertNil(written([("Transfer-Encoding", "gzip")]))
        XCTAssertNil(written([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")]))
        XCTAssertNil(written([("Transfer-Encoding", "chunked, chunked")]))
        XCTAssertEqual(written([("Transfer-Encoding", " Chunked ")])?.framing, .chunked)
        XCTAssertEqual(
            written([("Transfer-Encoding", "chunked,")])?.framing, .chunked, "an empty list element is no coding")
        // Without a body the field is dropped, whatever it names.
        let notModified = written([("Transfer-Encoding", "gzip")], status: 304)
        XCTAssertEqual(notModified?.framing, EngineConnection.BodyFraming.none)
        XCTAssertEqual(notModified?.has("Transfer-Encoding"), false)
    }

    func testTheUpstreamsDateIsKeptOrOneAdded() throws {
        let dated = try XCTUnwrap(written([("date", "Sun, 06 Nov 1994 08:49:37 GMT"), ("Content-Length", "0")]))
        XCTAssertEqual(dated.values("Date"), ["Sun, 06 Nov 1994 08:49:37 GMT"])
        let undated = try XCTUnwrap(written([("Content-Length", "0")]))
        XCTAssertEqual(undated.values("Date").count, 1, "RFC 9110 section 6.6.1: the proxy adds one")
    }

    func testAnswersWithoutABodyLoseTheirFramingFields() throws {
        for status in [204, 304] {
            let head = try XCTUnwrap(written([("Content-Length", "10"), ("ETag", "\"x\"")], status: status))
            XCTAssertFalse(head.has("Content-Length"), "\(status)")
            XCTAssertFalse(head.has("Transfer-Encoding"), "\(status)")
            XCTAssertEqual(head.values("ETag"), ["\"x\""])
            XCTAssertEqual(head.framing, EngineConnection.BodyFraming.none)
        }
    }

    func testAnHTTP10AnswerWithoutLengthEndsWithTheConnection() throws {
        let head = try XCTUnwrap(written([("Content-Type", "text/plain")], isHTTP10: true))
        XCTAssertEqual(head.statusLine, "HTTP/1.0 200 OK")
        XCTAssertEqual(head.framing, .untilClose)
        XCTAssertTrue(head.closes)
        XCTAssertEqual(head.values("Connection"), ["close"])
        XCTAssertFalse(head.has("Transfer-Encoding"))
    }

    func testHTTP10KeepAliveIsSaidAndAnHTTP11CloseIsSaid() throws {
        let kept = try XCTUnwrap(written([("Content-Length", "1")], isHTTP10: true))
        XCTAssertEqual(kept.values("Connection"), ["keep-alive"])
        XCTAssertFalse(kept.closes)
        let closed = try XCTUnwrap(written([("Content-Length", "1")], keepAlive: false))
        XCTAssertEqual(closed.values("Connection"), ["close"])
        XCTAssertTrue(closed.closes)
    }

    func testAHeadAnswerWithoutLengthNeedsNoClose() throws {
        let head = try XCTUnwrap(written([("Content-Type", "text/plain")], isHTTP10: true, isHead: true))
        XCTAssertFalse(head.closes)
        XCTAssertEqual(head.values("Connection"), ["keep-alive"])
    }

    func testFieldsWithControlCharactersOrBadNamesMakeABrokenAnswer() {
        let relayed = written([("Content-Type", "text/plain"), ("X-Tab", "a\tb"), ("X-Utf8", "é")])
        XCTAssertEqual(relayed?.values("X-Tab"), ["a\tb"])
        XCTAssertEqual(relayed?.values("X-Utf8"), ["é"])
        XCTAssertNil(written([("X-Broken", "a\u{01}b")]))
        XCTAssertNil(written([("Bad Name", "v")]))
        XCTAssertNil(written([("", "v")]))
        XCTAssertNil(written([("X-Del", "a\u{7F}")]))
        XCTAssertNil(written([("Content-Length", "1"), ("X-Ok", "v"), ("X\u{80}", "v")]))
    }

    func testAConnectionValueNamesFieldsButNotItsOptions() throws {
        let head = try XCTUnwrap(
            written([
                ("Connection", "Keep-Alive, X-Foo ,\tx-BAR\t,close"), ("X-Foo", "1"), ("X-Bar", "2"),
                ("Keep-Alive", "timeout=5"), ("Close", "kept"), ("Content-Length", "0"),
            ]))
        XCTAssertFalse(head.has("X-Foo"))
        XCTAssertFalse(head.has("X-Bar"))
        XCTAssertEqual(head.values("Close"), ["kept"], "close is an option, not a field name")
    }

    // MARK: the gateway's mark

    /// Every spelling an upstream might try, and several copies: a client replays a request after a token refresh
    /// only on a 401 that carries the mark (issue 22 item 12), so an upstream that could send it would have a client
    /// send a POST twice.
    static let forgedMarks = [
        ("X-Gateway-Error", "invalid_token"), ("x-gateway-error", "invalid_token"), ("X-GATEWAY-ERROR", "x"),
        ("x-GaTeWaY-eRrOr", ""),
    ]

    func testAnUpstreamAnswerLosesEveryCopyOfTheMark() throws {
        for status in [401, 200, 403, 502] {
            let fields =
                [("WWW-Authenticate", "Bearer error=\"invalid_token\"")] + Self.forgedMarks + [("Content-Length", "0")]
            let head = try XCTUnwrap(written(fields, status: status))
            XCTAssertEqual(head.framing, .length)
            XCTAssertFalse(head.closes)
            XCTAssertFalse(head.has("X-Gateway-Error"), "\(status)")
            XCTAssertEqual(head.values("WWW-Authenticate"), ["Bearer error=\"invalid_token\""])
            XCTAssertEqual(head.values("Content-Length"), ["0"])
        }
    }

    func testASwitchingAnswerLosesEveryCopyOfTheMark() {
        let fields =
            [("Upgrade", "websocket"), ("Connection", "Upgrade")] + Self.forgedMarks
            + [("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]
        let text = "HTTP/1.1 101 Switching Protocols\r\n" + fields.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n"
        let head = String(
            decoding: TunnelAnswer.switchingHead(Array(text.utf8)[...], requestID: "req-1"), as: UTF8.self)
        XCTAssertFalse(head.lowercased().contains("gateway-error"), head)
        XCTAssertTrue(head.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), head)
    }
}
