import GatewayCore

/// Picking again after a failed connection (docs/configuration.md, "Forwarding"): an idempotent request
/// without a body whose connection failed before anything was sent is tried once more on another of the route's
/// upstreams (`UpstreamFailure.mayRetry`), provided nothing has been written for it yet.
extension EngineConnection {
    /// Whether the transfer that just failed may be started again elsewhere. The request's own facts (method,
    /// attempts, the failure) are `UpstreamFailure.mayRetry`'s; the connection adds that the answer has not started
    /// and no body is streaming up (a body read into libcurl cannot be read a second time).
    public func mayRetry(method: String, attempts: Int, failure: UpstreamFailure) -> Bool {
        guard case .awaitingUpstream(_, let upload) = state, upload == nil else { return false }
        return UpstreamFailure.mayRetry(
            method: method, hasBody: false, attempts: attempts, couldNotConnect: failure.couldNotConnect)
    }
}
