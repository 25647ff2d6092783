import XCTest

@testable import Engine

/// The check of the upstream's answer to a tunnel's upgrade (RFC 6455 section 4.1; issue 22's hardening).
final class TunnelAnswerTests: XCTestCase {
    // RFC 6455 section 1.3's example key and accept.
    private let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    private func outcome(_ text: String, in pieces: Int = 1) -> TunnelAnswer.Outcome {
        var answer = TunnelAnswer(expectedAccept: accept)
        let bytes = Array(text.utf8)
        let size = max(1, bytes.count / pieces)
        var result = TunnelAnswer.Outcome.needMore
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            result = bytes[start..<end].withUnsafeBytes { answer.feed($0) }
            if result != .needMore { break }
            start = end
        }
        return result
    }

    func testARealSwitchOpensAndItsLengthLeavesTheFollowingBytesForTheClient() {
        let head =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(accept)\r\n\r\n"
        XCTAssertEqual(outcome(head + "\u{81}\u{02}hi", in: 7), .switched(headLength: head.utf8.count))
    }

    func testA101WithoutTheExpectedAcceptIsInvalid() {
        let head =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
            + "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        XCTAssertEqual(outcome(head), .invalid("the 101 answer's Sec-WebSocket-Accept is not the expected one"))
    }

    func testA101ToAnotherProtocolOrWithoutConnectionUpgradeIsInvalid() {
        XCTAssertEqual(
            outcome("HTTP/1.1 101 Switching\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"),
            .invalid("the 101 answer does not switch to websocket alone"))
        XCTAssertEqual(
            outcome("HTTP/1.1 101 Switching\r\nUpgrade: websocket, h2c\r\nConnection: Upgrade\r\n\r\n"),
            .invalid("the 101 answer does not switch to websocket alone"))
        XCTAssertEqual(
            outcome("HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n"),
            .invalid("the 101 answer does not list upgrade in Connection"))
    }

    /// The 101's checks (RFC 9110 section 7.8, RFC 6455 section 4.1): names and the protocol in any
    /// case, `upgrade` anywhere in Connection's list; anything but websocket alone, or the accept not exactly once, is
    /// refused.
    func testEveryOtherSwitchIsInvalid() {
        let accept = "Sec-WebSocket-Accept: \(accept)"
        func switching(_ fields: [String]) -> TunnelAnswer.Outcome {
            outcome((["HTTP/1.1 101 Switching Protocols"] + fields + ["", ""]).joined(separator: "\r\n"))
        }
        let taken = ["upgrade: WebSocket", "Connection: keep-alive, Upgrade", "sec-websocket-accept: \(self.accept)"]
        guard case .switched = switching(taken) else { return XCTFail("\(switching(taken))") }
        let refused: [[String]] = [
            ["Connection: Upgrade", accept],
            ["Upgrade: h2c", "Connection: Upgrade", accept],
            ["Upgrade: websocket, h2c", "Connection: Upgrade", accept],
            ["Upgrade: websocket", "Upgrade: websocket", "Connection: Upgrade", accept],
            ["Upgrade: websocket", accept],
            ["Upgrade: websocket", "Connection: close", accept],
            ["Upgrade: websocket", "Connection: Upgrade"],
            ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: wrong"],
            ["Upgrade: websocket", "Connection: Upgrade", accept, accept],
        ]
        for fields in refused {
            guard case .invalid = switching(fields) else { return XCTFail("\(fields): \(switching(fields))") }
        }
    }

    /// The 101 the client gets: the upstream's protocol fields, not the hop-by-hop ones or those its Connection names,
    /// the request id, and the switch itself.
    func testTheSwitchingHeadKeepsTheProtocolFieldsAndTheSwitch() {
        let head = Array(
            ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade, X-Hop\r\nX-Hop: 1\r\n"
                + "Sec-WebSocket-Accept: \(accept)\r\nKeep-Alive: timeout=5\r\n\r\n").utf8)
        XCTAssertEqual(
            String(decoding: TunnelAnswer.switchingHead(head[...], requestID: "req-1"), as: UTF8.self),
            "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: \(accept)\r\n"
                + "X-Request-Id: req-1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
    }

    func testAnotherFinalAnswerIsRefusedAndPassedOn() {
        XCTAssertEqual(outcome("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"), .refused(status: 403))
    }

    func testARefusedAnswersHeadLosesHopByHopFieldsAndTheMarkAndKeepsItsFraming() {
        let head = Array(
            ("HTTP/1.0 401 Unauthorized\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nUpgrade: websocket\r\n"
                + "X-Gateway-Error: forged\r\nWWW-Authenticate: Bearer\r\nContent-Length: 2\r\n\r\n").utf8)
        let text = String(decoding: TunnelAnswer.refusedHead(head[...], requestID: "r1"), as: UTF8.self)
        XCTAssertEqual(
            text,
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 2\r\n"
                + "X-Request-Id: r1\r\nConnection: close\r\n\r\n")
    }

    /// RFC 9110 section 5.5: passed on, a value holding a bare LF would be two fields to the client.
    func testAFieldThatIsNotAFieldMakesEitherAnswerInvalid() {
        let switching =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(accept)\r\n"
        for field in [
            "X-Note: a\nSet-Cookie: injected=1", "X-Note: a\rb", "X-Note: a\u{0}b", "Bad Name: x", "no colon",
        ] {
            XCTAssertEqual(
                outcome(switching + field + "\r\n\r\n"), .invalid("a malformed field in the upgrade answer"), field)
            XCTAssertEqual(
                outcome("HTTP/1.1 403 Forbidden\r\n" + field + "\r\nContent-Length: 0\r\n\r\n"),
                .invalid("a malformed field in the upgrade answer"), field)
        }
        let obsText = switching + "X-Note: a\tb \u{E9}\r\n\r\n"
        XCTAssertEqual(outcome(obsText), .switched(headLength: obsText.utf8.count), "tabs and obs-text are valid")
    }

    func testGarbageAndAnOversizedHeadAreInvalid() {
        XCTAssertEqual(outcome("SSH-2.0-OpenSSH\r\n\r\n"), .invalid("the upgrade answer's status line is malformed"))
        let huge = "HTTP/1.1 101 X\r\n" + String(repeating: "X-A: b\r\n", count: 3000)
        XCTAssertEqual(outcome(huge), .invalid("the upgrade answer's head is too large"))
    }
}
