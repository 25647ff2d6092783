import GatewayCore
import XCTest

@testable import Engine

/// Invalid field names and values are decided as each upstream line arrives (`UpstreamHead.hasInvalidField`), not by
/// `ClientHeadWriter.inspect` walking every field again: the same heads are refused, checked here against the
/// per-field inspection it replaced (kept below as the reference).
final class UpstreamHeadValidityTests: XCTestCase {
    private func head(_ lines: [[UInt8]]) -> UpstreamHead {
        var head = UpstreamHead()
        for line in lines + [[]] {
            _ = (line + Array("\r\n".utf8)).withUnsafeBytes { head.receive($0) }
        }
        return head
    }

    private func head(_ lines: [String]) -> UpstreamHead { head(lines.map { Array($0.utf8) }) }

    func testABadNameOrValueAnywhereRefusesAnAnswerWithABody() {
        let bad: [[UInt8]] = [
            Array("Bad Name: x".utf8), Array(": no name".utf8), Array("X(y): z".utf8), Array("Caf\u{E9}: x".utf8),
            Array("X-A: a".utf8) + [0x00] + Array("b".utf8), Array("X-A: a".utf8) + [0x7F],
            Array("X-A: ".utf8) + [0x01] + Array("b".utf8), Array("X-A: a\rb".utf8),
        ]
        for line in bad {
            for position in 0...2 {
                var lines = [Array("HTTP/1.1 200 OK".utf8), Array("Content-Length: 5".utf8), Array("X-B: c".utf8)]
                lines.insert(line, at: position + 1)
                let upstream = head(lines)
                XCTAssertTrue(upstream.hasInvalidField, "\(line)")
                XCTAssertEqual(
                    ClientHeadWriter.inspect(upstream), .init(passable: false, contentLength: nil), "\(line)")
                // Without a body there is no framing to break: passed, as before.
                lines[0] = Array("HTTP/1.1 204 No Content".utf8)
                XCTAssertEqual(ClientHeadWriter.inspect(head(lines)), .init(passable: true, contentLength: nil))
            }
        }
    }

    func testValidBytesAreNotRefused() {
        let upstream = head([
            Array("HTTP/1.1 200 OK".utf8), Array("X-Obs: caf".utf8) + [0xE9, 0xFF], Array("X-Tab: a\tb".utf8),
            Array("!#$%&'*+-.^_`|~09azAZ: ok".utf8), Array("Empty:".utf8), Array("Content-Length: 5".utf8),
        ])
        XCTAssertFalse(upstream.hasInvalidField)
        XCTAssertTrue(ClientHeadWriter.inspect(upstream).passable)
        XCTAssertNotNil(ClientHeadWriter.inspect(upstream).contentLength)
    }

    func testAnInterimHeadsBadFieldDoesNotCountAgainstTheFinalHead() {
        var upstream = UpstreamHead()
        for line in ["HTTP/1.1 103 Early Hints", "Bad Name: x", "", "HTTP/1.1 200 OK", "Content-Length: 2", ""] {
            _ = Array((line + "\r\n").utf8).withUnsafeBytes { upstream.receive($0) }
        }
        XCTAssertFalse(upstream.hasInvalidField)
        XCTAssertEqual(ClientHeadWriter.inspect(upstream), Self.referenceInspect(upstream))
        XCTAssertTrue(ClientHeadWriter.inspect(upstream).passable)
        upstream.reset()
        for line in ["HTTP/1.1 200 OK", "Bad Name: x"] {
            _ = Array((line + "\r\n").utf8).withUnsafeBytes { upstream.receive($0) }
        }
        XCTAssertTrue(upstream.hasInvalidField)
        upstream.reset()
        XCTAssertFalse(upstream.hasInvalidField)
    }

    /// Every combination of a few framing fields, good and bad lines, and statuses: the same inspection as the
    /// per-field one.
    func testEveryCombinationInspectsAsThePerFieldChecksDid() {
        let pieces: [[UInt8]] = [
            Array("Content-Length: 5".utf8), Array("Content-Length: 6".utf8), Array("Content-Length: 5, 5".utf8),
            Array("Content-Length: x".utf8), Array("Transfer-Encoding: chunked".utf8),
            Array("Transfer-Encoding: gzip".utf8), Array("Bad Name: x".utf8), Array("X-A: a".utf8) + [0x00],
            Array("X-Ok: fine".utf8), Array("Connection: close".utf8),
        ]
        var compared = 0
        for status in ["200 OK", "204 No Content", "304 Not Modified", "101 Switching", "404 Not Found", "999 X"] {
            for first in pieces.indices {
                for second in pieces.indices {
                    for third in [nil] + pieces.indices.map(Optional.some) {
                        var lines = [Array("HTTP/1.1 \(status)".utf8), pieces[first], pieces[second]]
                        if let third { lines.append(pieces[third]) }
                        let upstream = head(lines)
                        XCTAssertEqual(
                            ClientHeadWriter.inspect(upstream), Self.referenceInspect(upstream), "\(status) \(lines)")
                        compared += 1
                    }
                }
            }
        }
        XCTAssertEqual(compared, 6 * 10 * 10 * 11)
    }

    /// `ClientHeadWriter.inspect` as it was, every field's name and value checked in its loop.
    private static func referenceInspect(_ head: UpstreamHead) -> ClientHeadWriter.Inspection {
        let bodyless = head.status == 204 || head.status == 304 || head.status < 200
        var contentLength: ByteSpan?
        var lengthIsBroken = false
        var isChunked = false
        var codingIsBroken = false
        head.bytes.withUnsafeBytes { buffer in
            for field in head.fields {
                let name = field.name.bytes(in: buffer.baseAddress!)
                let value = field.value.bytes(in: buffer.baseAddress!)
                if !HeaderRewriter.isValidFieldName(name) || !HeaderRewriter.isValidFieldValue(value) {
                    lengthIsBroken = true
                    codingIsBroken = true
                    contentLength = nil
                    return
                }
                switch field.rule {
                case .contentLength:
                    if value.isEmpty { lengthIsBroken = true }
                    ConnectionNames.forEachElement(of: value) { element in
                        let digits = UnsafeRawBufferPointer(rebasing: value[element])
                        if !ClientHeadWriter.isLength(digits) {
                            lengthIsBroken = true
                        } else if let first = contentLength {
                            lengthIsBroken = !first.bytes(in: buffer.baseAddress!).elementsEqual(digits)
                        } else {
                            contentLength = ByteSpan(
                                start: field.value.start + element.lowerBound, count: element.count)
                        }
                        return !lengthIsBroken
                    }
                case .transferEncoding:
                    ConnectionNames.forEachElement(of: value) { element in
                        let coding = UnsafeRawBufferPointer(rebasing: value[element])
                        codingIsBroken = isChunked || !ConnectionNames.equalsLowercased(coding, "chunked")
                        isChunked = true
                        return !codingIsBroken
                    }
                default: break
                }
            }
        }
        if (codingIsBroken || (lengthIsBroken && !isChunked)) && !bodyless {
            return .init(passable: false, contentLength: nil)
        }
        return .init(passable: true, contentLength: isChunked || bodyless ? nil : contentLength)
    }
}
