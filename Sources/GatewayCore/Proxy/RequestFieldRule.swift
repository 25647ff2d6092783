/// What the upstream request does with one field of the client's request, decided by `HeaderRewriter`'s rules on the
/// field name's bytes (`HeaderRewriter.requestFieldRule(name:)`), for the engine's byte view of a request head
/// (issue 23); `UpstreamRequestLines` writes the upstream's list by it.
public enum RequestFieldRule: Sendable, Equatable {
    /// Passed on as it came.
    case forward
    /// Never passed on: hop-by-hop, an identity header in any spelling, or a field the gateway sets itself.
    case drop
    /// `Authorization`: passed on only where the route says `forward_authorization`.
    case authorization
    /// `Host`: passed on, and the source of `X-Forwarded-Host`.
    case host
    /// `Connection`: dropped, and the fields it names with it.
    case connection
    /// `X-Request-Id`: dropped, but the client's value is the request's id when it is sane (`RequestID.accept`).
    case requestID
}
