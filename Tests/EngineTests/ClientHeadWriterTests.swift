import XCTest

@testable import Engine

/// The client's head from the upstream's, on bytes: `HeaderRewriter`'s response rules (issue 23's slice).
final class ClientHeadWriterTests: XCTestCase {
    private func written(_ head: UpstreamHead, framing: EngineConnection.BodyFraming, closes: Bool = false) -> String {
        var out: [UInt8] = []
        let inspection = ClientHeadWriter.inspect(head)
        ClientHeadWriter.writeHead(
            head, contentLength: inspection.contentLength, framing: framing, closes: closes, requestID: "rid",
            isHTTP10: false, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func testHopByHopFieldsAndTheOnesConnectionNamesAreDropped() {
        let upstream = UpstreamHead.received([
            "HTTP/1.1 200 OK", "Date: d", "Connection: keep-alive, X-Secret", "X-Secret: s", "Keep-Alive: timeout=5",
            "X-Gateway-Error: forged", "Content-Length: 2", "Set-Cookie: a", "Set-Cookie: b",
        ])
        XCTAssertEqual(upstream.status, 200)
        let text = written(upstream, framing: .length)
        XCTAssertEqual(
            text,
            "HTTP/1.1 200 OK\r\nDate: d\r\nSet-Cookie: a\r\nSet-Cookie: b\r\nContent-Length: 2\r\n"
                + "X-Request-Id: rid\r\n\r\n")
    }

    func testChunkedAnswerLosesItsLengthAndIsChunkedAgain() {
        let upstream = UpstreamHead.received([
            "HTTP/1.1 200 OK", "Date: d", "Transfer-Encoding: chunked", "Content-Length: 5",
        ])
        let inspection = ClientHeadWriter.inspect(upstream)
        XCTAssertTrue(inspection.passable)
        XCTAssertNil(inspection.contentLength)
        XCTAssertEqual(
            written(upstream, framing: .chunked, closes: true),
            "HTTP/1.1 200 OK\r\nDate: d\r\nX-Request-Id: rid\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
    }

    func testBrokenFramingIsNotPassable() {
        XCTAssertFalse(
            ClientHeadWriter.inspect(
                UpstreamHead.received(["HTTP/1.1 200 OK", "Content-Length: 5", "Content-Length: 6"])
            ).passable)
        XCTAssertFalse(
            ClientHeadWriter.inspect(UpstreamHead.received(["HTTP/1.1 200 OK", "Transfer-Encoding: gzip"])).passable)
        XCTAssertFalse(ClientHeadWriter.inspect(UpstreamHead.received(["HTTP/1.1 200 OK", "Bad Name: x"])).passable)
        XCTAssertTrue(
            ClientHeadWriter.inspect(
                UpstreamHead.received(["HTTP/1.1 200 OK", "Content-Length: 5", "Content-Length: 5"])
            ).passable)
    }

    func testInterimHeadIsReplacedByTheFinalOne() {
        var upstream = UpstreamHead()
        var outcomes: [UpstreamHead.LineOutcome] = []
        for line in ["HTTP/1.1 100 Continue", "", "HTTP/1.1 201 Created", "X: y", "", "Trailer: t"] {
            let bytes = Array((line + "\r\n").utf8)
            outcomes.append(bytes.withUnsafeBytes { upstream.receive($0) })
        }
        XCTAssertEqual(outcomes, [.more, .headEnded, .more, .more, .headEnded, .ignored])
        XCTAssertEqual(upstream.status, 201)
        XCTAssertEqual(upstream.fields.count, 1)
    }

    func testChunkFraming() {
        var out: [UInt8] = []
        Array("hello, chunked world".utf8).withUnsafeBytes { ClientHeadWriter.writeChunk($0, into: &out) }
        ClientHeadWriter.writeLastChunk(into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "14\r\nhello, chunked world\r\n0\r\n\r\n")
    }

    func testStatusLinesComeFromTheTableWithinRangeAndAreBuiltOutsideIt() {
        func line(_ status: Int, http10: Bool = false) -> String {
            var out: [UInt8] = []
            ClientHeadWriter.writeStatusLine(status, http10: http10, into: &out)
            return String(decoding: out, as: UTF8.self)
        }
        XCTAssertEqual(line(200), "HTTP/1.1 200 OK\r\n")
        XCTAssertEqual(line(100), "HTTP/1.1 100 Continue\r\n")
        XCTAssertEqual(line(404, http10: true), "HTTP/1.0 404 Not Found\r\n")
        XCTAssertEqual(line(599), "HTTP/1.1 599 \r\n")
        XCTAssertEqual(line(999), "HTTP/1.1 999 \r\n")
    }
}
