import NIOCore
import NIOHTTP1
import XCTest

@testable import GatewayCore

final class RequestSequencerTests: XCTestCase {
    private func head(_ uri: String) -> RequestSequencer.Event {
        .part(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: uri)))
    }
    private let end = RequestSequencer.Event.part(.end(nil))
    private func body(_ text: String) -> RequestSequencer.Event { .part(.body(ByteBuffer(string: text))) }

    /// A short name per event, to compare sequences.
    private func name(_ event: RequestSequencer.Event?) -> String? {
        switch event {
        case .none: return nil
        case .part(.head(let head)): return head.uri
        case .part(.body(let buffer)): return "body:" + String(buffer: buffer)
        case .part(.end): return "end"
        case .malformed(let error): return "malformed:" + error.code
        }
    }

    private func drain(_ sequencer: inout RequestSequencer) -> [String] {
        var names: [String] = []
        while let event = sequencer.next() { names.append(name(event)!) }
        return names
    }

    func testRequestsThatWaitForTheirAnswerAreNeverHeld() {
        var sequencer = RequestSequencer()
        for i in 0..<3 {
            XCTAssertEqual(name(sequencer.receive(head("/\(i)"))), "/\(i)")
            XCTAssertEqual(name(sequencer.receive(body("x"))), "body:x")
            XCTAssertEqual(name(sequencer.receive(end)), "end")
            XCTAssertFalse(sequencer.isHolding)
            sequencer.responseEnded()
            XCTAssertNil(sequencer.next())
        }
    }

    func testPipelinedRequestsWaitForTheAnswerBeforeThem() {
        var sequencer = RequestSequencer()
        XCTAssertEqual(name(sequencer.receive(head("/a"))), "/a")
        XCTAssertEqual(name(sequencer.receive(end)), "end")
        XCTAssertNil(sequencer.receive(head("/b")))
        XCTAssertNil(sequencer.receive(body("b")))
        XCTAssertNil(sequencer.receive(end))
        XCTAssertNil(sequencer.receive(head("/c")))
        XCTAssertNil(sequencer.receive(end))
        XCTAssertTrue(sequencer.isHolding)
        XCTAssertNil(sequencer.next(), "nothing moves before the answer to /a has ended")

        sequencer.responseEnded()
        XCTAssertEqual(drain(&sequencer), ["/b", "body:b", "end"], "/c waits for the answer to /b")
        XCTAssertTrue(sequencer.isHolding)
        sequencer.responseEnded()
        XCTAssertEqual(drain(&sequencer), ["/c", "end"])
        XCTAssertFalse(sequencer.isHolding)
        // Once everything held is handed over, a request after an ended answer goes straight through again.
        sequencer.responseEnded()
        XCTAssertEqual(name(sequencer.receive(head("/d"))), "/d")
    }

    func testAnAnswerThatEndsBeforeItsRequestLetsTheRestOfThatRequestThrough() {
        // A local answer (401, 404) can end while the request's end is still to come.
        var sequencer = RequestSequencer()
        XCTAssertEqual(name(sequencer.receive(head("/a"))), "/a")
        sequencer.responseEnded()
        XCTAssertEqual(name(sequencer.receive(end)), "end")
        XCTAssertEqual(name(sequencer.receive(head("/b"))), "/b")
    }

    func testTheRestOfTheCurrentRequestIsNeverHeldBehindItsAnswer() {
        // An upload keeps flowing while the upstream's answer is under way.
        var sequencer = RequestSequencer()
        XCTAssertEqual(name(sequencer.receive(head("/upload"))), "/upload")
        XCTAssertEqual(name(sequencer.receive(body("1"))), "body:1")
        XCTAssertEqual(name(sequencer.receive(body("2"))), "body:2")
        XCTAssertEqual(name(sequencer.receive(.malformed(.malformedRequest))), "malformed:bad_request")
    }

    func testAParseErrorAfterPipelinedRequestsWaitsForTheirAnswers() {
        var sequencer = RequestSequencer()
        XCTAssertEqual(name(sequencer.receive(head("/a"))), "/a")
        XCTAssertEqual(name(sequencer.receive(end)), "end")
        XCTAssertNil(sequencer.receive(.malformed(.malformedRequest)))
        sequencer.responseEnded()
        XCTAssertEqual(drain(&sequencer), ["malformed:bad_request"])
    }

    func testResetDropsWhatIsHeld() {
        var sequencer = RequestSequencer()
        XCTAssertEqual(name(sequencer.receive(head("/a"))), "/a")
        XCTAssertEqual(name(sequencer.receive(end)), "end")
        XCTAssertNil(sequencer.receive(head("/b")))
        sequencer.reset()
        XCTAssertFalse(sequencer.isHolding)
        XCTAssertEqual(name(sequencer.receive(head("/c"))), "/c")
    }
}
