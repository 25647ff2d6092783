/// The one exit every request passes through (pingora's `logging` phase): it writes the access-log
/// line and feeds the request metrics, exactly once per request, on success and on every error path.
public final class AccessLogger: Sendable {
    private let writer: LineWriter?
    private let metrics: GatewayMetrics?

    /// - Parameter writer: nil when `[log] access_log = false`.
    public init(writer: LineWriter?, metrics: GatewayMetrics?) {
        self.writer = writer
        self.metrics = metrics
    }

    /// Borrows `entry` (as `GatewayMetrics.recordRequest` and `RequestClassification.init` do): the entry is
    /// read, never kept, so nothing on the way copies it (a copy is a retain and a release of every String in it).
    public func record(_ entry: borrowing AccessLogEntry) {
        writer?.append { entry.write(into: &$0) }
        metrics?.recordRequest(entry)
    }
}
