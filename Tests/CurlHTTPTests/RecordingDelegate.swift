import CurlHTTP
import Foundation
import NIOCore

/// Records everything a transfer reports and checks the delegate contract as it goes (head before body, one
/// finish, nothing after it, no body part while the response is paused by this delegate).
final class RecordingDelegate: CurlTransferDelegate, @unchecked Sendable {
    private let condition = NSCondition()
    private(set) var head: CurlResponseHead?
    private(set) var body = ByteBuffer()
    private(set) var parts = 0
    private(set) var finished = false
    private(set) var error: CurlError?
    private(set) var info: CurlTransferInfo?
    private(set) var violations: [String] = []
    private(set) var canAcceptMoreBodyCalls = 0
    private var pausedByMe = false

    /// Called on the curl thread for every body part after it is recorded.
    var onBodyPart: (@Sendable (CurlTransfer, ByteBuffer, RecordingDelegate) -> Void)?
    var onHead: (@Sendable (CurlTransfer, CurlResponseHead) -> Void)?
    var onCanAcceptMoreBody: (@Sendable (CurlTransfer) -> Void)?
    /// Keep only a count of body bytes (for big downloads).
    var discardBody = false

    var bodyString: String { String(buffer: body) }

    func transfer(_ t: CurlTransfer, didReceiveHead head: CurlResponseHead) {
        condition.lock()
        if self.head != nil { violations.append("second head") }
        if finished { violations.append("head after finish") }
        self.head = head
        condition.broadcast()
        condition.unlock()
        onHead?(t, head)
    }

    func transfer(_ t: CurlTransfer, didReceiveBodyPart part: ByteBuffer) {
        condition.lock()
        if head == nil { violations.append("body before head") }
        if finished { violations.append("body after finish") }
        if pausedByMe { violations.append("body part while paused") }
        parts += 1
        if !discardBody {
            var part = part
            body.writeBuffer(&part)
        }
        bodyBytes += part.readableBytes
        condition.broadcast()
        condition.unlock()
        onBodyPart?(t, part, self)
    }

    private(set) var bodyBytes = 0

    func transferCanAcceptMoreBody(_ t: CurlTransfer) {
        condition.lock()
        canAcceptMoreBodyCalls += 1
        condition.unlock()
        onCanAcceptMoreBody?(t)
    }

    func transfer(_ t: CurlTransfer, didFinishWith error: CurlError?, info: CurlTransferInfo) {
        condition.lock()
        if finished { violations.append("second finish") }
        finished = true
        self.error = error
        self.info = info
        condition.broadcast()
        condition.unlock()
    }

    /// Pauses the transfer's response and records that, so a part arriving while paused counts as a violation.
    func pause(_ t: CurlTransfer) {
        condition.lock()
        pausedByMe = true
        condition.unlock()
        t.pauseResponse()
    }

    func resume(_ t: CurlTransfer) {
        condition.lock()
        pausedByMe = false
        condition.unlock()
        t.resumeResponse()
    }

    /// Waits until `predicate` holds or the deadline passes; returns whether it holds.
    @discardableResult
    func wait(seconds: Double = 20, until predicate: (RecordingDelegate) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(self) {
            if !condition.wait(until: deadline) { return predicate(self) }
        }
        return true
    }

    @discardableResult
    func waitForFinish(seconds: Double = 20) -> Bool {
        wait(seconds: seconds) { $0.finished }
    }
}

/// Waits for a condition checked by polling, with a deadline (for state outside a delegate, e.g. server stats).
func eventually(seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}
