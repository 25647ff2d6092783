import Foundation
import SmallHTTP
import XCTest

@testable import Engine
@testable import GatewayCore

/// `ClientHeadWriter.writeHead` writes through a cursor into space reserved once: its bytes must be those of the
/// `Array.append` writer it replaced (kept here as the reference), for every kind of head, including heads far
/// longer than usual, fields to drop, CORS, HTTP/1.0 and a status outside the table.
final class ClientHeadWriterCursorTests: XCTestCase {
    private static let heads: [[String]] = [
        ["HTTP/1.1 200 OK", "Date: d", "Content-Length: 2", "Content-Type: text/plain"],
        ["HTTP/1.1 200 OK", "Content-Length: 5, 5", "Server: s", "X-Request-Id: up"],
        [
            "HTTP/1.1 404 Not Found", "Connection: keep-alive, X-Secret", "X-Secret: s", "Keep-Alive: timeout=5",
            "X-Gateway-Error: forged", "Set-Cookie: a", "Set-Cookie: b", "Transfer-Encoding: chunked",
        ],
        [
            "HTTP/1.1 204 No Content", "Date: d", "Access-Control-Allow-Origin: *", "Vary: Accept-Encoding",
            "access-control-max-age: 5", "Proxy-Authenticate: x", "TE: trailers", "Upgrade: h2c",
        ],
        ["HTTP/1.1 200 OK", "Vary: Origin", "Access-Control-Expose-Headers: X-A", "Date: d"],
        ["HTTP/1.1 999 Odd", "Date: d", "Empty:", "Spaced:   v  "],
        ["HTTP/1.0 0 Bad", "Date: d"],
        ["HTTP/1.1 599 Custom", "Date: d", "Content-Length: 18446744073709551615"],
        ["HTTP/1.1 200 OK", "Date: d"] + (0..<200).map { "X-Field-\($0): " + String(repeating: "v", count: $0 * 13) },
        ["HTTP/1.1 200 OK", "Date: d", "X-Long: " + String(repeating: "\u{e9}x", count: 9000), "Content-Length: 0"],
    ]

    private static let cors = [
        CorsPolicy.AnswerFields.none, CorsPolicy.AnswerFields(fields: [], isActive: true),
        CorsPolicy.AnswerFields(
            fields: [CorsPolicy.Field("Access-Control-Allow-Origin", "https://a.example")], isActive: true),
    ]

    func testEveryHeadIsWrittenAsTheAppendingWriterWroteIt() {
        for lines in Self.heads {
            let upstream = UpstreamHead.received(lines)
            let inspection = ClientHeadWriter.inspect(upstream)
            for cors in Self.cors {
                for framing in [EngineConnection.BodyFraming.none, .length, .chunked, .untilClose] {
                    for (closes, isHTTP10) in [(false, false), (true, false), (false, true), (true, true)] {
                        for requestID in ["rid", String(repeating: "r", count: 300)] {
                            // Output already queued (a previous answer) stays in front.
                            var out = Array("previous".utf8)
                            var expected = out
                            ClientHeadWriter.writeHead(
                                upstream, contentLength: inspection.contentLength, framing: framing, closes: closes,
                                requestID: requestID, isHTTP10: isHTTP10, cors: cors, into: &out)
                            Self.referenceWriteHead(
                                upstream, contentLength: inspection.contentLength, framing: framing, closes: closes,
                                requestID: requestID, isHTTP10: isHTTP10, cors: cors, into: &expected)
                            XCTAssertEqual(
                                Self.maskingDate(out), Self.maskingDate(expected),
                                "\(lines.prefix(3)) cors \(cors.isActive) \(framing) \(closes) \(isHTTP10)")
                        }
                    }
                }
            }
        }
    }

    func testTheGatewaysDateIsAddedOnlyWhenTheUpstreamHasNone() {
        var out: [UInt8] = []
        ClientHeadWriter.writeHead(
            UpstreamHead.received(["HTTP/1.1 200 OK", "Server: s"]), contentLength: nil, framing: .length,
            closes: false,
            requestID: "rid", isHTTP10: true, into: &out)
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.0 200 OK\r\nServer: s\r\nX-Request-Id: rid\r\nDate: "), text)
        XCTAssertTrue(text.hasSuffix(" GMT\r\nConnection: keep-alive\r\n\r\n"), text)
    }

    /// The Date the gateway adds is the clock's, which may tick between the two writers.
    private static func maskingDate(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).replacingOccurrences(
            of: #"\r\nDate: [A-Za-z]{3}, \d\d [A-Za-z]{3} \d{4} \d\d:\d\d:\d\d GMT\r\n"#, with: "\r\nDate: now\r\n",
            options: .regularExpression)
    }

    /// `writeHead` as it was before the cursor: one `Array.append` per piece.
    private static func referenceWriteHead(
        _ head: UpstreamHead, contentLength: ByteSpan?, framing: EngineConnection.BodyFraming, closes: Bool,
        requestID: String, isHTTP10: Bool, cors: CorsPolicy.AnswerFields, into out: inout [UInt8]
    ) {
        typealias Writer = ClientHeadWriter
        Writer.writeStatusLine(head.status, http10: isHTTP10, into: &out)
        var corsVary: [(name: String, value: String)] = []
        var sawRequestID = false
        var hasDate = false
        head.bytes.withUnsafeBytes { buffer in
            let base = buffer.baseAddress!
            var named = ConnectionNames()
            for field in head.fields where field.rule == .connection {
                named.add(listedIn: field.value.bytes(in: base))
            }
            for field in head.fields {
                let name = field.name.bytes(in: base)
                switch field.rule {
                case .drop, .contentLength, .transferEncoding, .connection: continue
                case .requestID: sawRequestID = true
                case .date: hasDate = true
                case .pass: break
                }
                if named.contains(name) { continue }
                if cors.isActive && Writer.isCorsField(name, value: field.value.bytes(in: base), vary: &corsVary) {
                    continue
                }
                out.append(contentsOf: name)
                Writer.append(": ", to: &out)
                out.append(contentsOf: field.value.bytes(in: base))
                Writer.append("\r\n", to: &out)
            }
            if let contentLength {
                Writer.append("Content-Length: ", to: &out)
                out.append(contentsOf: contentLength.bytes(in: base))
                Writer.append("\r\n", to: &out)
            }
        }
        for line in cors.lines(after: corsVary) { Writer.field(line.name, line.value, into: &out) }
        if !sawRequestID { Writer.field("X-Request-Id", requestID, into: &out) }
        if !hasDate { Writer.field("Date", HTTPDate.now(), into: &out) }
        if framing == .chunked { Writer.append("Transfer-Encoding: chunked\r\n", to: &out) }
        if closes {
            Writer.append("Connection: close\r\n", to: &out)
        } else if isHTTP10 {
            Writer.append("Connection: keep-alive\r\n", to: &out)
        }
        Writer.append("\r\n", to: &out)
    }
}
