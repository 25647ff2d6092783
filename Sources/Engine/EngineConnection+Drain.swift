extension EngineConnection {
    /// What a drain (SIGTERM) does to one connection.
    public enum DrainAction: Sendable, Equatable {
        /// Idle between requests: close it now.
        case close
        /// A request is being answered: it finishes, and the connection closes after it.
        case finishThenClose
        /// Already closing (lingering or closed): nothing more to do.
        case none
    }

    /// The gateway is shutting down: no request after the one in flight. An answer whose head has not gone out yet
    /// announces `Connection: close` (RFC 9112 section 9.6); one already relaying closes the connection at its end.
    /// `hasPartialHead`: bytes of a next request were read; it is still answered (with `Connection: close`), as the
    /// client may already be waiting for it.
    public mutating func drain(hasPartialHead: Bool) -> DrainAction {
        switch state {
        case .awaitingHead:
            return hasPartialHead ? .finishThenClose : .close
        case .awaitingUpstream(var shape, let upload):
            shape.keepAlive = false
            state = .awaitingUpstream(shape, upload)
            return .finishThenClose
        case .relaying(var relay):
            relay.shape.keepAlive = false
            relay.closesAfter = true
            state = .relaying(relay)
            return .finishThenClose
        case .lingering, .closed:
            return .none
        }
    }
}
