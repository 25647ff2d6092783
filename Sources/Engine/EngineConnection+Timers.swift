/// The client-side timer of a connection (docs/configuration.md, `[server]`): between requests a keep-alive
/// connection with nothing to do closes after `idle_timeout`; from a request's first byte the client has
/// `client_timeout` to deliver the whole request, head and body (so a client trickling its header block, a slow
/// loris, is cut off). Deadlines are `CLOCK_MONOTONIC` nanoseconds; the worker keeps no timer per connection, it
/// sweeps its connections when the earliest deadline it was told of has passed (`EngineWorker+Timers`).
extension EngineConnection {
    public enum ClientTimer: Sendable, Equatable {
        case none
        /// Between requests.
        case idle(UInt64)
        /// While a request is read, from its first byte.
        case client(UInt64)
    }

    /// The two timeouts, in nanoseconds.
    public struct Timeouts: Sendable, Equatable {
        public var idle: UInt64
        public var client: UInt64

        public init(idle: UInt64, client: UInt64) {
            self.idle = idle
            self.client = client
        }
    }

    public enum TimerAction: Sendable, Equatable {
        /// Not due, or nothing to do.
        case none
        /// Close without a word: an idle connection, or a head that never completed (no request to answer).
        case close
        /// Abort the transfer, answer 408 (`client_timeout`) and go on as `Then` says (lingering, as the body is
        /// unread).
        case abortAndAnswer(Then)
        /// Abort the transfer and close: the answer had started, the client sees it cut off.
        case abortAndClose
    }

    /// When the armed timer fires; nil when none is armed.
    public var deadline: UInt64? {
        switch timer {
        case .none: return nil
        case .idle(let at), .client(let at): return at
        }
    }

    /// The connection was accepted, or a request ended and the connection waits for the next one. Returns the
    /// deadline armed.
    @discardableResult
    public mutating func armIdle(now: UInt64, _ timeouts: Timeouts) -> UInt64 {
        let at = now &+ timeouts.idle
        timer = .idle(at)
        return at
    }

    /// Bytes arrived: a request starts with the first of them, and from then on the client timer runs (once per
    /// request: a head and its body share it). Returns the deadline newly armed, if any.
    public mutating func requestBytesArrived(now: UInt64, _ timeouts: Timeouts) -> UInt64? {
        if case .client = timer { return nil }
        guard case .awaitingHead = state else { return nil }
        let at = now &+ timeouts.client
        timer = .client(at)
        return at
    }

    /// The armed deadline may have passed.
    public mutating func timerFired(now: UInt64) -> TimerAction {
        guard let deadline, deadline <= now else { return .none }
        let fired = timer
        timer = .none
        switch (fired, state) {
        case (.idle, .awaitingHead):
            state = .closed
            return .close
        case (.client, .awaitingHead):
            // A head that never completed: closed without an answer, as there is no request to answer.
            state = .closed
            return .close
        case (.client, .awaitingUpstream(let shape, let upload)):
            // The request was read in time: the upstream's timeout bounds the rest.
            guard let upload, !upload.ended else { return .none }
            return .abortAndAnswer(endRequest(keepAlive: shape.keepAlive, upload: upload))
        case (.client, .relaying(let relay)):
            guard let upload = relay.upload, !upload.ended else { return .none }
            state = .closed
            return .abortAndClose
        case (.idle, _), (.client, _), (.none, _):
            return .none
        }
    }
}
