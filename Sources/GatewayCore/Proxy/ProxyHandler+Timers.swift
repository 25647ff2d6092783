import CurlHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// Turns, timers and reads: what lets the next request in, and what cuts a slow client off.
extension ProxyHandler {
    // MARK: Turns, timers and reads

    /// The answer to the current request has ended and the connection stays open: wait for the next request, or
    /// take the pipelined one that is already here.
    func responseEnded() {
        sequencer.responseEnded()
        armIdleTimer()
        // Handing a held request over can end its answer at once (a local answer), which lands here again: the
        // outer loop goes on with the next one.
        guard !handingOverHeld else { return }
        handingOverHeld = true
        while let event = sequencer.next() { handle(event) }
        handingOverHeld = false
        resumeReads()
    }

    func releaseReads() {
        guard readsHeld else { return }
        readsHeld = false
        resumeReads()
    }

    /// Asks for the read held back, once neither the upload's back-pressure nor a pipelined request holds reads.
    func resumeReads() {
        guard !readsHeld, !sequencer.isHolding, readPending, let context else { return }
        readPending = false
        context.read()
    }

    /// This also bounds a client that trickles a request's header block.
    func armIdleTimer() {
        timer = .idle(.now() + Self.timeAmount(runtime.config.server.idleTimeout))
    }

    func armClientTimer(_ timeout: Duration) {
        timer = .client(.now() + Self.timeAmount(timeout))
    }

    /// When the armed timer fires, read by the loop's `ConnectionDeadlines`; nil when none is armed.
    var deadline: NIODeadline? {
        switch timer {
        case .none: return nil
        case .idle(let deadline), .client(let deadline): return deadline
        case .linger(let idle, let end): return min(idle, end)
        }
    }

    /// Called by `ConnectionDeadlines` once `deadline` has passed.
    func deadlineExpired() {
        let fired = timer
        timer = .none
        switch fired {
        case .idle:
            if case .idle = state { context?.close(promise: nil) }
        case .client:
            clientTimedOut()
        case .linger:
            context?.close(promise: nil)
        case .none:
            break
        }
    }

    /// The first bytes of a request arrived (seen by `RequestStartDetector` before parsing): from now on
    /// the client has `client_timeout` to deliver the whole request, header block included.
    func requestBytesArrived() {
        if case .idle = timer, case .idle = state {
            armClientTimer(runtime.config.server.clientTimeout)
        }
    }

    /// Whether the detector needs to report arriving bytes (only between requests).
    var isAwaitingRequest: Bool {
        if case .idle = timer { return true }
        return false
    }

    func clientTimedOut() {
        switch state {
        case .proxying(let exchange):
            exchange.transfer?.cancel()
            exchange.record.log.error = "client_timeout"
            failExchange(exchange, with: .clientTimeout)
        case .collectingControl(let control):
            state = .idle
            answer(
                .clientTimeout, record: control.record, version: control.version,
                isHeadRequest: control.request.method == .HEAD, keepAlive: false, bodyUnread: true)
        case .idle, .lingering, .awaitingControl, .awaitingUpstreamReport, .openingTunnel:
            context?.close(promise: nil)
        }
    }

    // MARK: Helpers

    static func describe(_ error: CurlError) -> String {
        switch error {
        case .couldNotConnect(let detail): return "upstream_unreachable: \(detail)"
        case .timedOut(let detail): return "upstream_timeout: \(detail)"
        case .brokenResponse(let detail): return "upstream_broken: \(detail)"
        case .cancelled: return "cancelled"
        case .requestBodyFailed(let detail): return "request_body_failed: \(detail)"
        case .other(let code, let detail): return "curl_\(code): \(detail)"
        }
    }
}
