import XCTest

@testable import CurlHTTP

final class UpgradeAnswerReaderTests: XCTestCase {
    private func feed(_ reader: inout UpgradeAnswerReader, _ text: String) -> UpgradeAnswerReader.Step {
        Array(text.utf8).withUnsafeBytes { reader.feed($0) }
    }

    func testSwitchingKeepsWhatFollowsTheHead() {
        var reader = UpgradeAnswerReader()
        let step = feed(
            &reader,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: abc\r\n\r\n\u{81}\u{02}hi")
        guard case .switched(let head, let leftover) = step else { return XCTFail("\(step)") }
        XCTAssertEqual(head.status, 101)
        XCTAssertEqual(head.values(of: "sec-websocket-accept"), ["abc"])
        XCTAssertEqual(leftover, [0xC2, 0x81, 0x02, 0x68, 0x69])
    }

    func testHeadSplitAcrossReads() {
        var reader = UpgradeAnswerReader()
        let text = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
        for byte in text.utf8.dropLast() {
            XCTAssertEqual([byte].withUnsafeBytes { reader.feed($0) }, .needMore)
        }
        guard case .switched = feed(&reader, "\n") else { return XCTFail() }
    }

    func testInterimAnswersAreSkipped() {
        var reader = UpgradeAnswerReader()
        let step = feed(&reader, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n")
        guard case .switched(let head, let leftover) = step else { return XCTFail("\(step)") }
        XCTAssertEqual(head.status, 101)
        XCTAssertEqual(leftover, [])
    }

    func testRefusalWithContentLength() {
        var reader = UpgradeAnswerReader()
        XCTAssertEqual(feed(&reader, "HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nab"), .needMore)
        guard case .refused(let head, let body) = feed(&reader, "cde") else { return XCTFail() }
        XCTAssertEqual(head.status, 403)
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "abcde")
    }

    func testRefusalChunkedIsDecoded() {
        var reader = UpgradeAnswerReader()
        let step = feed(
            &reader, "HTTP/1.1 401 No\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n"
        )
        guard case .refused(_, let body) = step else { return XCTFail("\(step)") }
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "abcde")
    }

    func testRefusalUntilClose() {
        var reader = UpgradeAnswerReader()
        XCTAssertEqual(feed(&reader, "HTTP/1.0 400 Bad\r\n\r\nsome"), .needMore)
        XCTAssertEqual(feed(&reader, " body"), .needMore)
        guard case .refused(_, let body) = reader.finish() else { return XCTFail() }
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "some body")
    }

    func testBrokenAnswers() {
        var reader = UpgradeAnswerReader()
        XCTAssertEqual(feed(&reader, "SSH-2.0-OpenSSH\r\n"), .invalid("the answer is not HTTP/1.1"))
        reader = UpgradeAnswerReader()
        XCTAssertEqual(reader.finish(), .invalid("the upstream closed the connection before answering"))
        reader = UpgradeAnswerReader()
        XCTAssertEqual(
            feed(&reader, "HTTP/1.1 403 F\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            .invalid("the answer's body framing is invalid"))
        reader = UpgradeAnswerReader(maxHeadBytes: 64)
        XCTAssertEqual(
            feed(&reader, "HTTP/1.1 101 S\r\nX: " + String(repeating: "a", count: 100)),
            .invalid("answer header block too large"))
        reader = UpgradeAnswerReader(maxBodyBytes: 4)
        XCTAssertEqual(
            feed(&reader, "HTTP/1.1 403 F\r\nContent-Length: 10\r\n\r\n0123456789"), .invalid("answer body too large"))
        reader = UpgradeAnswerReader()
        XCTAssertEqual(
            feed(&reader, "HTTP/1.1 403 F\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            .invalid("the answer's chunked body is malformed"))
        reader = UpgradeAnswerReader()
        XCTAssertEqual(feed(&reader, "HTTP/1.1 403 F\r\nContent-Length: 10\r\n\r\n0123"), .needMore)
        XCTAssertEqual(reader.finish(), .invalid("the upstream closed the connection mid-answer"))
    }
}
