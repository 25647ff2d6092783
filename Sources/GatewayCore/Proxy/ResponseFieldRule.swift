/// What the client's head does with one field of the upstream's answer, decided by `HeaderRewriter`'s rules on the
/// field name's bytes (`HeaderRewriter.responseFieldRule(name:)`), for the engine's byte view (issue 23).
public enum ResponseFieldRule: Sendable, Equatable {
    /// Passed on as it came.
    case pass
    /// Never passed on: hop-by-hop, or the gateway's own mark.
    case drop
    /// Framing: `Content-Length` is written once by the gateway, `Transfer-Encoding` is replaced by its own chunking
    /// (libcurl delivers the body de-chunked).
    case contentLength
    case transferEncoding
    /// `Connection`: dropped, and the fields it names with it.
    case connection
    /// Passed on; the gateway adds its own only when the answer has none.
    case requestID
    case date
}
