/// The request body's side of the connection (issue 23): streamed to libcurl as it arrives, never collected. The
/// body's bytes wait in the connection's read buffer (de-chunked there by the parser) until libcurl's read callback
/// takes them; while `limit` bytes wait, the client is not read (back-pressure), and libcurl's read callback pauses
/// the upload while nothing waits.
extension EngineConnection {
    /// What a request head announced about its body.
    public struct RequestBody: Sendable, Equatable {
        /// A Content-Length above zero or a chunked body.
        public var announced: Bool
        /// `Expect: 100-continue`.
        public var expectsContinue: Bool
        /// `[server] max_body_bytes`: a body that grows past it while streaming is refused with 413.
        public var maxBytes: Int

        public init(announced: Bool, expectsContinue: Bool = false, maxBytes: Int = .max) {
            self.announced = announced
            self.expectsContinue = expectsContinue
            self.maxBytes = maxBytes
        }

        public static let none = RequestBody(announced: false)
    }

    /// A request body on its way up.
    public struct Upload: Sendable, Equatable {
        public var maxBytes: Int
        /// Body bytes read from the client so far.
        public var received = 0
        /// The body's last byte has been read.
        public var ended = false
        /// libcurl asked for body while none waited (its read callback returned `CURL_READFUNC_PAUSE`): resume its
        /// sending when bytes come.
        public var upstreamWaiting = false
        /// The client is not read while `limit` bytes of body wait for libcurl.
        public var readsHeld = false

        public init(maxBytes: Int) {
            self.maxBytes = maxBytes
        }
    }

    public enum BodyArrival: Sendable, Equatable {
        /// Keep the bytes for libcurl. `resumeUpstream`: unpause its sending; `holdReads`: stop reading the client.
        case feed(resumeUpstream: Bool, holdReads: Bool)
        /// Over `max_body_bytes` before the answer's head went out: abort the transfer, answer 413, then linger.
        case refuseTooLarge
        /// Over `max_body_bytes` after the head went out: abort the transfer and close (the client sees a cut answer).
        case abortAndClose
        /// Bytes of a body nobody takes (lingering): drop them.
        case discard
        /// The body whose rest was being dropped has ended: close now, with nothing unread (a FIN, not a reset).
        case close
    }

    public enum BodyRead: Sendable, Equatable {
        /// Hand libcurl what waits.
        case copy
        /// Nothing waits yet: `CURL_READFUNC_PAUSE`, resumed by the next bytes.
        case pause
        /// The body is complete: 0, libcurl ends the upload.
        case end
        /// No request body belongs to this transfer any more: `CURL_READFUNC_ABORT`.
        case abort
    }

    /// The upload in flight, if any.
    public var upload: Upload? {
        switch state {
        case .awaitingUpstream(_, let upload): return upload
        case .relaying(let relay): return relay.upload
        case .awaitingHead, .lingering, .closed: return nil
        }
    }

    /// Which of libcurl's directions stay paused for this connection (`curl_easy_pause` sets both at once): receiving
    /// while a slow client has too much queued, sending while no body waits.
    public var upstreamPause: (receive: Bool, send: Bool) {
        switch state {
        case .relaying(let relay): return (relay.upstreamPaused, relay.upload?.upstreamWaiting ?? false)
        case .awaitingUpstream(_, let upload): return (false, upload?.upstreamWaiting ?? false)
        case .awaitingHead, .lingering, .closed: return (false, false)
        }
    }

    /// `count` bytes of body were read (`ended`: the last of them); `pending` bytes now wait for libcurl.
    public mutating func bodyArrived(_ count: Int, ended: Bool, pending: Int, limit: Int) -> BodyArrival {
        if case .lingering = state {
            guard ended else { return .discard }
            state = .closed
            return .close
        }
        guard var upload else { return .discard }
        upload.received += count
        if upload.received > upload.maxBytes {
            // Checked while streaming: a chunked body announces no length (RFC 9112 section 7.1).
            if case .relaying = state {
                state = .closed
                return .abortAndClose
            }
            state = .lingering
            return .refuseTooLarge
        }
        upload.ended = upload.ended || ended
        let resume = upload.upstreamWaiting && (count > 0 || ended)
        if resume { upload.upstreamWaiting = false }
        let hold = !upload.ended && pending >= limit
        if hold { upload.readsHeld = true }
        setUpload(upload)
        return .feed(resumeUpstream: resume, holdReads: hold)
    }

    public enum BodyFailure: Sendable, Equatable {
        /// Abort the transfer, answer 400 and close: nothing was written for the request yet.
        case abortAndAnswer
        /// Abort the transfer (if any) and close: an answer was under way, or none is owed.
        case abortAndClose
    }

    /// The body's bytes are not valid chunk framing (RFC 9112 section 7.1): nothing after them can be trusted.
    public mutating func bodyMalformed() -> BodyFailure {
        let answers: Bool
        if case .awaitingUpstream = state { answers = true } else { answers = false }
        state = .closed
        return answers ? .abortAndAnswer : .abortAndClose
    }

    /// libcurl's read callback asks for body; `pending` bytes wait.
    public mutating func upstreamWantsBody(pending: Int) -> BodyRead {
        guard var upload else { return .abort }
        if pending > 0 { return .copy }
        if upload.ended { return .end }
        upload.upstreamWaiting = true
        setUpload(upload)
        return .pause
    }

    /// libcurl took body bytes and `pending` still wait. True: read the client again.
    public mutating func bodyTaken(pending: Int, limit: Int) -> Bool {
        guard var upload, upload.readsHeld, pending < limit else { return false }
        upload.readsHeld = false
        setUpload(upload)
        return true
    }

    private mutating func setUpload(_ upload: Upload) {
        switch state {
        case .awaitingUpstream(let shape, _): state = .awaitingUpstream(shape, upload)
        case .relaying(var relay):
            relay.upload = upload
            state = .relaying(relay)
        case .awaitingHead, .lingering, .closed: break
        }
    }
}
