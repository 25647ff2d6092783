import Logging
import Metrics
import OTel
import ServiceLifecycle
import Tracing

/// `[tracing]` export (docs/configuration.md, "Tracing"): swift-otel's tracer, batch span processor and OTLP/HTTP
/// (protobuf) exporter, run as one service group beside the gateway. Built once at start: a change of `[tracing]`
/// takes effect after a restart (`RestartRequiredChanges`). Without `endpoint` there is none and `RequestTracer.off`
/// serves every request.
public final class TracingExport: Sendable {
    public let tracer: RequestTracer
    private let group: ServiceGroup
    private let running = LockedTask()

    /// The metric every dropped span is counted in, on the admin `/metrics`.
    public static let droppedMetric = "gateway_trace_spans_dropped_total"

    /// Nil when `config` has no endpoint.
    public init?(_ config: TracingConfig, logger: Logger) throws {
        guard let url = config.tracesURL else { return nil }
        var otel = OTel.Configuration.default
        otel.serviceName = config.serviceName
        otel.metrics.enabled = false
        otel.logs.enabled = false
        otel.propagators = [.traceContext]
        otel.traces.exporter = .otlp
        otel.traces.otlpExporter.protocol = .httpProtobuf
        // Set in full, so it is used as written: the collector's base URL with /v1/traces.
        otel.traces.otlpExporter.endpoint = url
        otel.traces.otlpExporter.timeout = .seconds(5)
        otel.traces.batchSpanProcessor.exportTimeout = .seconds(10)
        // RequestTracer decides (parent-based, new traces by the ratio) and hands swift-otel sampled requests only;
        // their children follow them.
        otel.traces.sampler = .parentBasedAlwaysOn
        let counter = Counter(label: Self.droppedMetric)
        var diagnostics = Logger(label: "gateway.tracing") { _ in
            DroppedSpanCounter(counter: counter, forward: logger)
        }
        diagnostics.logLevel = .warning
        otel.diagnosticLogger = .custom(diagnostics)
        otel.diagnosticLogLevel = .warning
        let backend = try OTel.makeTracingBackend(configuration: otel)
        tracer = RequestTracer(
            tracer: backend.factory, includesOpenid: config.includeOpenid, sampleRatio: config.sampleRatio)
        group = ServiceGroup(
            configuration: .init(services: [.init(service: backend.service)], logger: diagnostics))
    }

    /// Starts export in a task of its own, outside the gateway's shutdown: spans of requests that finish while the
    /// gateway drains are still exported by `stop()`.
    public func start() {
        let group = self.group
        running.set(Task.detached { try? await group.run() })
    }

    /// Flushes what is queued (a collector that does not answer within `within` is given up on) and stops.
    public func stop(within limit: Duration = .seconds(3)) async {
        await group.triggerGracefulShutdown()
        guard let task = running.take() else { return }
        let finished = Task {
            try? await Task.sleep(for: limit)
            task.cancel()
        }
        await task.value
        finished.cancel()
    }
}
