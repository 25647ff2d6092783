extension CurlTransfer {
    /// Why a transfer was stopped from outside, set once by `cancel()` or `abortBody()` on any thread.
    enum StopReason: UInt8 {
        case none = 0
        case cancelled = 1
        case bodyAborted = 2

        var error: CurlError? {
            switch self {
            case .none: return nil
            case .cancelled: return .cancelled
            case .bodyAborted: return .requestBodyFailed("the request body producer aborted")
            }
        }
    }

    /// The life of one transfer as the curl thread sees it: events in, actions out, no I/O.
    ///
    /// It guarantees the delegate contract: at most one head, body parts only after it, exactly one finish, and
    /// nothing after the finish, whatever order libcurl's callbacks, cancellation and completion arrive in.
    struct StateMachine {
        enum State {
            /// Handed to the event thread, not yet added to the multi handle.
            case queued
            /// Added; reading the header block.
            case awaitingHead(ResponseHeadParser)
            /// The head was delivered; body parts may follow.
            case streamingBody
            /// The delegate has been told the end.
            case finished
        }

        enum StartAction: Equatable {
            case addHandle
            case finish(CurlError)
        }

        enum CallbackAction: Equatable {
            /// Keep going (nothing to deliver yet).
            case proceed
            /// Give the delegate the completed head, then keep going.
            case deliverHead
            /// Give the delegate the body part.
            case deliverBodyPart
            /// Return `CURL_WRITEFUNC_PAUSE`; libcurl keeps the data and offers it again after unpause.
            case pause
            /// Return an error to libcurl so that it ends the transfer.
            case abort
        }

        enum StopAction: Equatable {
            /// Remove the easy handle from the multi handle now and finish with the error.
            case removeHandleAndFinish(CurlError)
            /// Not added (or already gone): just finish with the error.
            case finish(CurlError)
            case none
        }

        private(set) var state = State.queued
        /// Set by a header line libcurl should not have passed on (the transfer is then aborted).
        private var protocolError: String?

        /// The event thread picked the transfer up.
        mutating func start(stop: StopReason) -> StartAction {
            guard case .queued = state else { return .finish(.other(code: -1, "transfer started twice")) }
            if let error = stop.error {
                state = .finished
                return .finish(error)
            }
            state = .awaitingHead(ResponseHeadParser())
            return .addHandle
        }

        /// Adding the handle failed (e.g. a bad option); the transfer ends without libcurl.
        mutating func failedToStart() {
            state = .finished
        }

        /// The head parsed so far (complete after `.deliverHead`).
        var head: CurlResponseHead? {
            if case .awaitingHead(let parser) = state { return parser.head }
            return nil
        }

        /// One line from the header callback. After the head, lines are trailers and are ignored.
        mutating func headerLine(_ line: UnsafeRawBufferPointer, stop: StopReason) -> CallbackAction {
            if stop != .none { return .abort }
            switch state {
            case .awaitingHead(var parser):
                state = .queued  // keep the parser uniquely referenced while it changes
                let result = parser.parse(line: line)
                state = .awaitingHead(parser)
                switch result {
                case .needMoreLines:
                    return .proceed
                case .complete:
                    return .deliverHead
                case .malformed:
                    protocolError = "malformed response header line"
                    return .abort
                }
            case .streamingBody:
                return .proceed
            case .queued, .finished:
                return .abort
            }
        }

        /// The head was handed to the delegate.
        mutating func headDelivered() {
            if case .awaitingHead = state { state = .streamingBody }
        }

        /// A body part from the write callback.
        mutating func bodyPart(stop: StopReason, paused: Bool) -> CallbackAction {
            if stop != .none { return .abort }
            guard case .streamingBody = state else {
                // libcurl stops reading a head after a 101 it did not ask for and passes the rest on as body: an
                // upstream switching protocols on a request that never offered an Upgrade.
                if case .awaitingHead = state { protocolError = "body bytes before a final response head" }
                return .abort
            }
            return paused ? .pause : .deliverBodyPart
        }

        /// libcurl reported the transfer done with `code` (0 = CURLE_OK). Returns the error to finish with, or nil
        /// for success; `nil` from `finishAction` means the delegate must not be told (already finished).
        mutating func curlDone(
            code: Int,
            message: String,
            stop: StopReason,
            requestWasSent: Bool
        ) -> CurlError?? {
            let headPending: Bool
            switch state {
            case .finished, .queued:
                return .none
            case .awaitingHead:
                headPending = true
            case .streamingBody:
                headPending = false
            }
            state = .finished
            if code == 0 {
                // A success without a final head (e.g. only 1xx lines, then EOF) is no valid response.
                return .some(headPending ? .brokenResponse("the response ended before its header block") : nil)
            }
            if let stopError = stop.error { return .some(stopError) }
            if let protocolError { return .some(.brokenResponse(protocolError)) }
            return .some(CurlError(curlCode: code, message: message, requestWasSent: requestWasSent))
        }

        /// `cancel()` or `abortBody()` reached the curl thread.
        mutating func stop(_ reason: StopReason) -> StopAction {
            guard let error = reason.error else { return .none }
            switch state {
            case .finished:
                return .none
            case .queued:
                state = .finished
                return .finish(error)
            case .awaitingHead, .streamingBody:
                state = .finished
                return .removeHandleAndFinish(error)
            }
        }

        /// The client shut down with the transfer still running.
        mutating func shutDown() -> StopAction {
            stop(.cancelled)
        }
    }
}
