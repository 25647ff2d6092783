/// A tunnel the registry can close from any thread (a revocation, the end of a drain): an engine worker's tunnel,
/// which posts the close to its worker (issue 23).
public protocol ClosableTunnel: AnyObject, Sendable {
    /// Ends the tunnel; `reason` is what its access-log line and metrics name (`revoked`, `shutdown`).
    func close(reason: String)
}
