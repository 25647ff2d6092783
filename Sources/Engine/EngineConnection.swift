/// One client connection of the engine (issue 23) as a state machine: events in, actions out, no I/O. The worker
/// (`EngineWorker`) reads, feeds events here and performs what comes back; this value decides everything about the
/// connection's HTTP/1.1 life: which answer frames how, when a connection is kept, when a transfer is aborted, when
/// the upstream is paused for a slow client, and which event ends a request (and so writes its access-log line).
///
/// Requests on a connection are answered strictly in order: the next head (pipelined or not) is parsed only when the
/// state is `.awaitingHead` again, so pipelining costs nothing more than parsing later.
public struct EngineConnection: Sendable, Equatable {
    /// What a request's answer depends on, taken from its head.
    public struct RequestShape: Sendable, Equatable {
        /// The client may send another request after this one (RFC 9112 section 9.3; llhttp's keep-alive rule).
        public var keepAlive: Bool
        /// A HEAD answer has no body, whatever its framing fields say (RFC 9110 section 9.3.2).
        public var isHead: Bool
        /// An HTTP/1.0 client cannot read chunked: a body of unknown length ends with the connection.
        public var isHTTP10: Bool

        public init(keepAlive: Bool, isHead: Bool, isHTTP10: Bool) {
            self.keepAlive = keepAlive
            self.isHead = isHead
            self.isHTTP10 = isHTTP10
        }
    }

    /// How the client learns where an answer's body ends (RFC 9112 section 6.3).
    public enum BodyFraming: Sendable, Equatable {
        case none, length, chunked, untilClose
    }

    public struct Relay: Sendable, Equatable {
        public var shape: RequestShape
        public var framing: BodyFraming
        public var closesAfter: Bool
        public var upstreamPaused: Bool
        /// The request's body while it still streams up beside the answer; nil for a bodiless request.
        public var upload: Upload?
    }

    public enum State: Sendable, Equatable {
        /// Waiting for (the rest of) a request head.
        case awaitingHead
        /// A transfer runs for the request (and takes its body, if any); nothing has been written for it yet.
        case awaitingUpstream(RequestShape, Upload?)
        /// The upstream's head went out; its body follows.
        case relaying(Relay)
        /// Answered before the request's body was read: the rest of the body is read and dropped, then the connection
        /// closes (nginx's lingering close). Closing at once would make the kernel answer the
        /// unread bytes with a reset, and a client that writes its whole body first would see that, not the answer.
        case lingering
        /// Nothing more is read; the connection closes once what is queued is written.
        case closed
    }

    /// What follows an answer that ends a request.
    public enum Then: Sendable, Equatable {
        /// Parse the next request (pipelined bytes may already be waiting).
        case next
        /// Close once the answer is written.
        case close
        /// Stop writing once the answer is written, read and drop the rest of the request's body, then close.
        case linger
    }

    public enum HeadAction: Sendable, Equatable {
        case startTransfer
        /// `100 Continue` first (the client waits for it before sending its body), then start the transfer.
        case continueAndStartTransfer
        /// A local answer (the planner's status) that ends the request.
        case answer(Then)
        /// The head came while another request was being answered: a bug of the driver, closed rather than mixed.
        case close
    }

    public enum UpstreamHeadAction: Sendable, Equatable {
        /// Write the client's head with this framing; `closes` announces `Connection: close`.
        case writeHead(BodyFraming, closes: Bool)
        /// An interim (1xx) head: nothing to do.
        case ignore
        /// A head that may not be passed on: abort the transfer; its failure (`upstreamFailed`) answers 502.
        case abort
    }

    public enum BodyAction: Sendable, Equatable {
        case writeRaw, writeChunk, discard
    }

    public enum EndAction: Sendable, Equatable {
        /// The answer is complete: write the last chunk if `lastChunk`, log the request, then go on.
        case finish(lastChunk: Bool, Then)
        /// The transfer failed or ended before a head: answer 502 or 504 locally, log, then go on.
        case answer(Then)
        /// The answer was cut off after its head went out: log and close, so the client sees it incomplete.
        case close
        /// Nothing was in flight.
        case ignore
    }

    public enum CloseAction: Sendable, Equatable {
        /// Abort the transfer in flight and log the request as ended by the client.
        case abortTransferAndClose
        case close
    }

    /// Set only by this type's methods (here and in `EngineConnection+RequestBody`).
    public internal(set) var state: State = .awaitingHead
    /// The client-side timer (`EngineConnection+Timers`).
    public internal(set) var timer: ClientTimer = .none

    public init() {}

    /// A request head was parsed; `forward` is the planner's verdict (false: it answers locally, and `closes` says
    /// whether that answer must end the connection, as after a malformed request).
    ///
    /// `body` is what the head announced. A body goes up with the transfer; a local answer leaves it unread, and the
    /// connection lingers. `100 Continue` goes only to a forwarded request, never to an HTTP/1.0 client (RFC 9110
    /// section 10.1.1: it could not read an interim answer, and its expectation is ignored).
    public mutating func headReceived(
        _ shape: RequestShape, forward: Bool, closes: Bool = false, body: RequestBody = .none
    ) -> HeadAction {
        guard case .awaitingHead = state else {
            state = .closed
            return .close
        }
        if forward {
            guard body.announced else {
                state = .awaitingUpstream(shape, nil)
                return .startTransfer
            }
            state = .awaitingUpstream(shape, Upload(maxBytes: body.maxBytes))
            return body.expectsContinue && !shape.isHTTP10 ? .continueAndStartTransfer : .startTransfer
        }
        if body.announced {
            state = .lingering
            return .answer(.linger)
        }
        return .answer(endRequest(keepAlive: shape.keepAlive && !closes))
    }

    /// The bytes could not be parsed as HTTP/1.1: answered 400 (only between requests), then closed.
    public mutating func parseFailed() -> HeadAction {
        guard case .awaitingHead = state else {
            state = .closed
            return .close
        }
        state = .closed
        return .answer(.close)
    }

    /// The upstream's head is complete. `passable` is false when one of its fields may not be passed on.
    public mutating func upstreamHeadReceived(
        status: Int, hasContentLength: Bool, passable: Bool
    )
        -> UpstreamHeadAction
    {
        guard case .awaitingUpstream(let shape, let upload) = state else { return .ignore }
        // libcurl hands 1xx heads to the header callback too; the final head follows (docs/libcurl.md, "Responses").
        if (100..<200).contains(status) { return .ignore }
        guard passable else { return .abort }
        let framing: BodyFraming
        if shape.isHead || status == 204 || status == 304 {
            framing = .none
        } else if hasContentLength {
            framing = .length
        } else {
            framing = shape.isHTTP10 ? .untilClose : .chunked
        }
        let closes = !shape.keepAlive || framing == .untilClose
        state = .relaying(
            Relay(shape: shape, framing: framing, closesAfter: closes, upstreamPaused: false, upload: upload))
        return .writeHead(framing, closes: closes)
    }

    /// A piece of the upstream's body arrived (de-chunked by libcurl).
    public func upstreamBodyReceived() -> BodyAction {
        guard case .relaying(let relay) = state else { return .discard }
        switch relay.framing {
        case .none: return .discard
        case .length, .untilClose: return .writeRaw
        case .chunked: return .writeChunk
        }
    }

    /// The transfer ended well.
    ///
    /// An upstream may answer before it has read the whole body: the rest of it is still coming, so the connection
    /// lingers after the answer rather than parse that rest as the next request.
    public mutating func upstreamEnded() -> EndAction {
        switch state {
        case .relaying(let relay):
            let then = endRequest(keepAlive: !relay.closesAfter, upload: relay.upload)
            return .finish(lastChunk: relay.framing == .chunked, then)
        case .awaitingUpstream(let shape, let upload):
            return .answer(endRequest(keepAlive: shape.keepAlive, upload: upload))
        case .awaitingHead, .lingering, .closed:
            return .ignore
        }
    }

    /// The transfer failed (could not connect, timed out, broken answer).
    public mutating func upstreamFailed() -> EndAction {
        switch state {
        case .awaitingUpstream(let shape, let upload):
            return .answer(endRequest(keepAlive: shape.keepAlive, upload: upload))
        case .relaying:
            state = .closed
            return .close
        case .awaitingHead, .lingering, .closed:
            return .ignore
        }
    }

    /// The client closed its side or the socket failed.
    public mutating func peerClosed() -> CloseAction {
        let inFlight: Bool
        switch state {
        case .awaitingUpstream, .relaying: inFlight = true
        case .awaitingHead, .lingering, .closed: inFlight = false
        }
        state = .closed
        return inFlight ? .abortTransferAndClose : .close
    }

    /// Bytes wait for the client beyond what the worker's socket took: past `limit` the upstream is paused, so a slow
    /// client never makes the gateway hold a whole body. True: pause the transfer now.
    public mutating func outputPending(_ bytes: Int, limit: Int) -> Bool {
        guard case .relaying(var relay) = state, !relay.upstreamPaused, bytes > limit else { return false }
        relay.upstreamPaused = true
        state = .relaying(relay)
        return true
    }

    /// Everything queued reached the socket. True: resume the paused transfer now.
    public mutating func outputDrained() -> Bool {
        guard case .relaying(var relay) = state, relay.upstreamPaused else { return false }
        relay.upstreamPaused = false
        state = .relaying(relay)
        return true
    }

    mutating func endRequest(keepAlive: Bool, upload: Upload? = nil) -> Then {
        if let upload, !upload.ended {
            state = .lingering
            return .linger
        }
        state = keepAlive ? .awaitingHead : .closed
        return keepAlive ? .next : .close
    }
}
