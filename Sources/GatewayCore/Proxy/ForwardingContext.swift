/// What the header rewriter needs to know about the connection a request came in on.
public struct ForwardingContext: Sendable {
    /// The peer's IP address in text form, or nil for a unix socket.
    public var peerAddress: String?
    /// "http" or "https", as the client connected to us.
    public var scheme: String
    /// The request id: the client's `X-Request-Id` when acceptable, otherwise a generated one.
    public var requestID: String
    /// The `traceparent` to send (the gateway's span as parent) and the caller's `tracestate`; when set, the
    /// client's own copies are replaced, not forwarded beside them.
    public var traceparent: String?
    public var tracestate: String?

    public init(
        peerAddress: String?, scheme: String, requestID: String, traceparent: String? = nil, tracestate: String? = nil
    ) {
        self.peerAddress = peerAddress
        self.scheme = scheme
        self.requestID = requestID
        self.traceparent = traceparent
        self.tracestate = tracestate
    }
}
