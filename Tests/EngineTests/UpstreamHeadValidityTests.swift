import GatewayCore
import XCTest

@testable import Engine

/// Invalid field names and values are decided as each upstream line arrives (`UpstreamHead.hasInvalidField`), not by
/// `ClientHeadWriter.inspect` walking every field again, and refuse the answer whatever its status.
final class UpstreamHeadValidityTests: XCTestCase {
    private static let badLines: [[UInt8]] = [
        Array("Bad Name: x".utf8), Array(": no name".utf8), Array("X(y): z".utf8), Array("Caf\u{E9}: x".utf8),
        Array("X-A: a".utf8) + [0x00] + Array("b".utf8), Array("X-A: a".utf8) + [0x7F],
        Array("X-A: ".utf8) + [0x01] + Array("b".utf8), Array("X-A: a\rb".utf8),
    ]

    func testABadNameOrValueAnywhereRefusesTheAnswerWithOrWithoutABody() {
        for line in Self.badLines {
            for position in 0...2 {
                for status in ["200 OK", "204 No Content", "304 Not Modified"] {
                    var lines = [
                        Array("HTTP/1.1 \(status)".utf8), Array("Content-Length: 5".utf8), Array("X-B: c".utf8),
                    ]
                    lines.insert(line, at: position + 1)
                    let upstream = UpstreamHead.received(lines)
                    XCTAssertTrue(upstream.hasInvalidField, "\(line)")
                    // Without a body there is no framing to break, but the field would still reach the client.
                    XCTAssertEqual(
                        ClientHeadWriter.inspect(upstream), .init(passable: false, contentLength: nil),
                        "\(status) \(line)")
                }
            }
        }
    }

    func testValidBytesAreNotRefused() {
        let upstream = UpstreamHead.received([
            Array("HTTP/1.1 200 OK".utf8), Array("X-Obs: caf".utf8) + [0xE9, 0xFF], Array("X-Tab: a\tb".utf8),
            Array("!#$%&'*+-.^_`|~09azAZ: ok".utf8), Array("Empty:".utf8), Array("Content-Length: 5".utf8),
        ])
        XCTAssertFalse(upstream.hasInvalidField)
        XCTAssertTrue(ClientHeadWriter.inspect(upstream).passable)
        XCTAssertNotNil(ClientHeadWriter.inspect(upstream).contentLength)
    }

    func testAnInterimHeadsBadFieldDoesNotCountAgainstTheFinalHead() {
        var upstream = UpstreamHead.received(
            ["HTTP/1.1 103 Early Hints", "Bad Name: x", "", "HTTP/1.1 200 OK", "Content-Length: 2"])
        XCTAssertFalse(upstream.hasInvalidField)
        XCTAssertTrue(ClientHeadWriter.inspect(upstream).passable)
        XCTAssertNotNil(ClientHeadWriter.inspect(upstream).contentLength)
        upstream.reset()
        upstream.receive(["HTTP/1.1 200 OK", "Bad Name: x"])
        XCTAssertTrue(upstream.hasInvalidField)
        upstream.reset()
        XCTAssertFalse(upstream.hasInvalidField)
    }

    /// Every combination of a few framing fields, good and bad lines, and statuses: a head is flagged exactly when one
    /// of its lines fails `HeaderRewriter`'s name or value check, and a flagged head is never passable.
    func testEveryCombinationIsFlaggedExactlyWhenALineIsInvalid() {
        let pieces: [[UInt8]] = [
            Array("Content-Length: 5".utf8), Array("Content-Length: 6".utf8), Array("Content-Length: 5, 5".utf8),
            Array("Content-Length: x".utf8), Array("Transfer-Encoding: chunked".utf8),
            Array("Transfer-Encoding: gzip".utf8), Array("Bad Name: x".utf8), Array("X-A: a".utf8) + [0x00],
            Array("X-Ok: fine".utf8), Array("Connection: close".utf8),
        ]
        let invalid = pieces.map { line in
            let colon = line.firstIndex(of: UInt8(ascii: ":"))!
            let value = Array(line[(colon + 1)...].drop { $0 == UInt8(ascii: " ") })
            let name = Array(line[..<colon])
            return !name.withUnsafeBytes(HeaderRewriter.isValidFieldName)
                || !value.withUnsafeBytes(HeaderRewriter.isValidFieldValue)
        }
        var compared = 0
        for status in ["200 OK", "204 No Content", "304 Not Modified", "404 Not Found", "999 X"] {
            for first in pieces.indices {
                for second in pieces.indices {
                    for third in [nil] + pieces.indices.map(Optional.some) {
                        var lines = [Array("HTTP/1.1 \(status)".utf8), pieces[first], pieces[second]]
                        if let third { lines.append(pieces[third]) }
                        let upstream = UpstreamHead.received(lines)
                        let expected = invalid[first] || invalid[second] || third.map { invalid[$0] } == true
                        XCTAssertEqual(upstream.hasInvalidField, expected, "\(status) \(lines)")
                        if expected {
                            XCTAssertFalse(ClientHeadWriter.inspect(upstream).passable, "\(status) \(lines)")
                        }
                        compared += 1
                    }
                }
            }
        }
        XCTAssertEqual(compared, 5 * 10 * 10 * 11)
        XCTAssertEqual(invalid.filter { $0 }.count, 2)
    }
}
