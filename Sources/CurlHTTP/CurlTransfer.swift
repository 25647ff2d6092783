import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// A running request: the handle through which its caller streams the request body, applies back-pressure to the
/// response and cancels it.
///
/// Every method may be called from any thread (typically an event loop) at any time, also after the transfer has
/// finished, when they do nothing. Commands travel to the transfer's curl thread through its queue; the easy handle
/// is only ever touched there.
public final class CurlTransfer: Sendable {
    let request: CurlRequest
    let eventThread: CurlEventThread

    /// Read by the write callback on every body part, so a pause takes effect at once.
    let responsePaused = Atomic<Bool>(false)
    /// A `StopReason`; set once, read by every callback so no event reaches the delegate after a cancel.
    let stopReasonValue = Atomic<UInt8>(StopReason.none.rawValue)
    /// Resume commands already queued, to send at most one at a time per direction.
    let receiveResumeQueued = Atomic<Bool>(false)
    /// nil for a request without a body: most requests, which then need neither the queue nor its lock.
    let requestBody: NIOLockedValueBox<RequestBodyQueue>?

    /// State owned by the curl thread: only touched there, so it needs no lock.
    nonisolated(unsafe) var engine: EngineState

    init(request: CurlRequest, delegate: any CurlTransferDelegate, eventThread: CurlEventThread) {
        self.request = request
        self.eventThread = eventThread
        self.engine = EngineState(delegate: delegate)
        switch request.body {
        case .none:
            self.requestBody = nil
        case .streamed:
            self.requestBody = NIOLockedValueBox(RequestBodyQueue())
        case .bytes(let buffer):
            self.requestBody = NIOLockedValueBox(RequestBodyQueue(complete: buffer))
        }
    }

    var stopReason: StopReason {
        StopReason(rawValue: stopReasonValue.load(ordering: .acquiring)) ?? .none
    }

    /// Queue a request-body chunk. Returns false when the queued bytes are above a high-water mark (256 KiB):
    /// the producer should stop reading until `transferCanAcceptMoreBody`. Never drops data; chunks written after
    /// `finishBody` or `abortBody`, or to a request without a body, are ignored.
    @discardableResult
    public func writeBody(_ buffer: ByteBuffer) -> Bool {
        guard let requestBody else { return true }
        let (accepted, resume) = requestBody.withLockedValue { $0.append(buffer) }
        if resume { eventThread.submit(.resumeSend(self)) }
        return accepted
    }

    /// Ends the request body. For a chunked body this sends the last chunk; for a body of known length the caller
    /// must have written exactly that many bytes, or the transfer fails with `.requestBodyFailed`.
    public func finishBody() {
        guard let requestBody else { return }
        let resume = requestBody.withLockedValue { $0.finish() }
        if resume { eventThread.submit(.resumeSend(self)) }
    }

    /// The producer gave up mid-body (e.g. the client went away): the transfer is removed at once and fails with
    /// `.requestBodyFailed`. Does nothing once the body was finished, or for a request without one.
    public func abortBody() {
        guard let requestBody else { return }
        let aborted = requestBody.withLockedValue { $0.abort() }
        if aborted { requestStop(.bodyAborted) }
    }

    /// Response back-pressure: no more body parts are delivered until `resumeResponse`. libcurl keeps what it has
    /// already read (one part) and stops reading the socket.
    public func pauseResponse() {
        responsePaused.store(true, ordering: .releasing)
    }

    /// Ends a `pauseResponse`; delivery continues on the curl thread.
    public func resumeResponse() {
        responsePaused.store(false, ordering: .releasing)
        if !receiveResumeQueued.exchange(true, ordering: .acquiringAndReleasing) {
            eventThread.submit(.resumeReceive(self))
        }
    }

    /// Cancels the transfer: its easy handle is removed at once on the curl thread (the connection is closed, not
    /// reused) and the delegate gets `.cancelled`, unless the transfer already finished.
    public func cancel() {
        requestStop(.cancelled)
    }

    private func requestStop(_ reason: StopReason) {
        let (exchanged, _) = stopReasonValue.compareExchange(
            expected: StopReason.none.rawValue,
            desired: reason.rawValue,
            ordering: .acquiringAndReleasing
        )
        if exchanged { eventThread.submit(.stop(self)) }
    }
}

extension CurlTransfer {
    /// What the curl thread keeps per transfer.
    struct EngineState {
        var machine = StateMachine()
        /// Cleared after the finish so that a delegate holding its transfer does not keep both alive.
        var delegate: (any CurlTransferDelegate)?
        var easy: EasyHandle?
        /// What libcurl currently has paused, so an unpause of one direction keeps the other paused.
        var receivePaused = false
        var sendPaused = false
        var requestBodyBytes = 0
        var responseBodyBytes = 0

        init(delegate: any CurlTransferDelegate) {
            self.delegate = delegate
        }
    }
}
