import NIOConcurrencyHelpers
import Prometheus

/// Counters, gauges and histograms the gateway exports at the admin listener's `/metrics`, in one
/// `PrometheusCollectorRegistry`. `factory` bridges the same registry to swift-metrics, so libraries
/// that report through `MetricsSystem` land in the same scrape.
///
/// Cost on the proxy path: `recordRequest` takes one lock for a dictionary lookup of cached handles
/// (created on first use per route, method and status; when the last request had the same, no lookup: one
/// comparison and one retain under the lock), then bumps atomics and two histograms. The registry's own lookup
/// (label sorting, string keys) runs only when a new series first appears.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// swift-metrics on top of `registry` (for `MetricsSystem.bootstrap`).
    public let factory: PrometheusMetricsFactory

    /// Per-route series, looked up once per request together with the request counter.
    private struct RouteSeries: Sendable {
        let duration: ValueHistogram
        let upstreamDuration: ValueHistogram
        let bytesIn: Counter
        let bytesOut: Counter
    }

    /// Everything one request counts towards, in one object: handed out of the lock with one retain, not five.
    private final class RequestSeries: Sendable {
        let requests: Counter
        let route: RouteSeries

        init(requests: Counter, route: RouteSeries) {
            self.requests = requests
            self.route = route
        }
    }

    private struct Handles {
        var requests: [RequestClassification.Labels: RequestSeries] = [:]
        var routes: [String: RouteSeries] = [:]
        var labelled: [LabelledKey: Counter] = [:]
        /// The labels and series the last request used: most requests repeat the one before's labels, and comparing
        /// them in place costs less than hashing them for a lookup. Kept apart, not as an optional tuple, so the
        /// comparison copies (and retains) nothing; no series yet until the first request.
        var lastLabels = RequestClassification.Labels(route: "", method: "", status: -1)
        var lastSeries: RequestSeries?
    }

    /// A counter with one label, for the low-rate families (logins, reloads, token failures...).
    private struct LabelledKey: Hashable {
        var name: String
        var labels: [String]
    }

    private let handles = NIOLockedValueBox(Handles())
    private let revocationFeedSampled = NIOLockedValueBox((reads: 0, rows: 0))

    /// Seconds; from sub-millisecond local answers to long upstream calls.
    static let latencyBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]

    private let openConnections: Gauge
    private let upstreamTransfersInFlight: Gauge
    private let lastReloadSuccessful: Gauge
    private let accessLogDroppedLines: Gauge
    private let connectionsRejected: Counter
    private let tunnelsOpen: Gauge

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets.map { .nanoseconds(Int64($0 * 1e9)) }
        factory.defaultValueHistogramBuckets = Self.latencyBuckets
        self.factory = factory
        openConnections = registry.makeGauge(
            descriptor: Self.describe(
                "open_client_connections", "", "Client connections open on the public listener."))
        upstreamTransfersInFlight = registry.makeGauge(
            descriptor: Self.describe(
                "upstream_transfers_in_flight", "", "Upstream transfers currently running in libcurl."))
        lastReloadSuccessful = registry.makeGauge(
            descriptor: Self.describe(
                "config_last_reload_successful", "",
                "1 when the last SIGHUP reload was applied, 0 when it was rejected."))
        accessLogDroppedLines = registry.makeGauge(
            descriptor: Self.describe(
                "access_log_dropped_lines", "", "Access-log lines dropped because standard output could not keep up."))
        connectionsRejected = registry.makeCounter(
            descriptor: Self.describe(
                "connections_rejected", "total", "Client connections closed at once because max_connections were open.")
        )
        tunnelsOpen = registry.makeGauge(
            descriptor: Self.describe(
                "websocket_tunnels_open", "", "WebSocket tunnels open or opening (counted against max_tunnels)."))
        lastReloadSuccessful.set(Int64(1))
    }

    // MARK: Recording

    /// Called once per request from `AccessLogger.record`; borrows the entry, which it only reads.
    public func recordRequest(_ entry: borrowing AccessLogEntry) {
        let classification = RequestClassification(entry)
        let series = handles.withLockedValue { handles -> RequestSeries in
            if handles.lastLabels == classification.labels, let series = handles.lastSeries { return series }
            let series =
                handles.requests[classification.labels]
                ?? {
                    // The counter first, then the route's series: the order they were always registered in.
                    let requests = makeRequestCounter(classification.labels)
                    let route =
                        handles.routes[classification.labels.route]
                        ?? {
                            let route = makeRouteSeries(classification.labels.route)
                            handles.routes[classification.labels.route] = route
                            return route
                        }()
                    let series = RequestSeries(requests: requests, route: route)
                    handles.requests[classification.labels] = series
                    return series
                }()
            handles.lastLabels = classification.labels
            handles.lastSeries = series
            return series
        }
        series.requests.increment()
        series.route.duration.record(entry.durationSeconds)
        if let upstreamSeconds = entry.upstreamSeconds { series.route.upstreamDuration.record(upstreamSeconds) }
        if entry.bytesIn > 0 { series.route.bytesIn.increment(by: Int64(entry.bytesIn)) }
        if entry.bytesOut > 0 { series.route.bytesOut.increment(by: Int64(entry.bytesOut)) }

        switch classification.controlCall {
        case .login?: count("logins", "Logins (POST /auth/login) by outcome.", ["outcome": classification.outcome])
        case .refresh?:
            count(
                "refreshes", "Refresh-token exchanges (POST /auth/token) by outcome.",
                ["outcome": classification.outcome])
        case nil: break
        }
        if let reason = classification.tokenFailure { recordTokenFailure(reason: reason) }
    }

    /// A bearer token that did not let its request through: `missing`, `expired`, `bad_signature`,
    /// `wrong_issuer`, `revoked`... (`AuthRejection.reason`).
    public func recordTokenFailure(reason: String) {
        count("token_verification_failures", "Bearer tokens refused on proxied routes, by reason.", ["reason": reason])
    }

    /// A client connection accepted over `[server] max_connections` and closed at once.
    public func recordRejectedConnection() {
        connectionsRejected.increment()
    }

    /// A WebSocket tunnel ended: `outcome` is `client_closed`, `upstream_closed`, `idle_timeout`, `revoked`,
    /// `shutdown` or `upstream_error`; the bytes are what it relayed each way after the 101.
    public func recordTunnelEnd(outcome: String, bytesToUpstream: Int, bytesToClient: Int) {
        count("websocket_tunnels", "WebSocket tunnels that ended, by outcome.", ["outcome": outcome])
        count(
            "websocket_bytes", "Bytes relayed through WebSocket tunnels, by direction.", ["direction": "to_upstream"],
            by: bytesToUpstream)
        count(
            "websocket_bytes", "Bytes relayed through WebSocket tunnels, by direction.", ["direction": "to_client"],
            by: bytesToClient)
    }

    /// A SIGHUP reload, applied or rejected.
    public func recordReload(applied: Bool) {
        count("config_reloads", "Configuration reloads by outcome.", ["outcome": applied ? "success" : "failure"])
        lastReloadSuccessful.set(Int64(applied ? 1 : 0))
    }

    /// One WeChat server API exchange: `api` is the path (`/sns/jscode2session`), `errcode` WeChat's
    /// answer (0 on success, -1 for transport failures, as WeChat itself uses -1 for "system busy").
    public func recordWeChatCall(api: String, errcode: Int, seconds: Double) {
        count(
            "wechat_api_calls", "WeChat server API calls by API and errcode.", ["api": api, "errcode": String(errcode)])
        registry.makeValueHistogram(
            descriptor: Self.describe("wechat_api_duration", "seconds", "WeChat server API call latency."),
            labels: [("api", api)], buckets: Self.latencyBuckets
        ).record(seconds)
    }

    /// Gauges that are cheaper to sample when scraped than to maintain on every connection.
    public func sample(
        openConnections: Int, upstreamTransfersInFlight: Int?, accessLogDroppedLines: Int?, openTunnels: Int = 0
    ) {
        self.openConnections.set(Int64(openConnections))
        tunnelsOpen.set(Int64(openTunnels))
        if let upstreamTransfersInFlight { self.upstreamTransfersInFlight.set(Int64(upstreamTransfersInFlight)) }
        if let accessLogDroppedLines { self.accessLogDroppedLines.set(Int64(accessLogDroppedLines)) }
    }

    /// The store's revocation feed, sampled when scraped: the counters move by what was read since the last
    /// sample. A notification only wakes a read, so a flood of them shows as a few reads, not one each.
    public func sampleRevocationFeed(reads: Int, rows: Int) {
        let (newReads, newRows) = revocationFeedSampled.withLockedValue { last in
            defer { last = (reads, rows) }
            return (max(0, reads - last.reads), max(0, rows - last.rows))
        }
        count("revocation_feed_reads", "Reads of the store's revocation feed.", [:], by: newReads)
        count("revocation_feed_rows", "Revocation rows read from the store's feed.", [:], by: newRows)
    }

    /// The Prometheus text exposition format (version 0.0.4).
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }

    // MARK: Handles

    private func count(_ name: String, _ help: String, _ labels: KeyValuePairs<String, String>, by amount: Int = 1) {
        let key = LabelledKey(name: name, labels: labels.flatMap { [$0.key, $0.value] })
        let counter = handles.withLockedValue { handles in
            if let counter = handles.labelled[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.describe(name, "total", help), labels: labels.map { ($0.key, $0.value) })
            handles.labelled[key] = counter
            return counter
        }
        if amount > 0 { counter.increment(by: Int64(amount)) }
    }

    private func makeRequestCounter(_ labels: RequestClassification.Labels) -> Counter {
        registry.makeCounter(
            descriptor: Self.describe("requests", "total", "Requests by route, method and status."),
            labels: [("route", labels.route), ("method", labels.method), ("status", String(labels.status))])
    }

    private func makeRouteSeries(_ route: String) -> RouteSeries {
        RouteSeries(
            duration: registry.makeValueHistogram(
                descriptor: Self.describe(
                    "request_duration", "seconds", "Time from request head to the last byte sent, by route."),
                labels: [("route", route)], buckets: Self.latencyBuckets),
            upstreamDuration: registry.makeValueHistogram(
                descriptor: Self.describe("upstream_duration", "seconds", "Upstream exchange time, by route."),
                labels: [("route", route)], buckets: Self.latencyBuckets),
            bytesIn: registry.makeCounter(
                descriptor: Self.describe("request_body_bytes", "total", "Request body bytes received, by route."),
                labels: [("route", route)]),
            bytesOut: registry.makeCounter(
                descriptor: Self.describe("response_body_bytes", "total", "Response body bytes sent, by route."),
                labels: [("route", route)]))
    }

    private static func describe(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "gateway", metricName: name, unitName: unit, helpText: help)
    }
}
