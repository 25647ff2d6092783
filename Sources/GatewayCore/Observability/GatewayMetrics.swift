/// Counters and histograms the gateway exports at `/metrics` (filled in with swift-metrics by the
/// operations work; until then this records nothing).
public final class GatewayMetrics: Sendable {
    public init() {}

    public func recordRequest(_ entry: AccessLogEntry) {}
}
