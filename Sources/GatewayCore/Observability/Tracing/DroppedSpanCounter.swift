import Logging
import Metrics

/// Counts the spans swift-otel's batch processor gives up on, in `gateway_trace_spans_dropped_total`: a batch whose
/// export failed (collector down, refusing, or slower than the export timeout) and spans dropped because the queue
/// was full. swift-otel reports both only through its diagnostic logger, so this is that logger's handler; it
/// passes each message on to the gateway's own log as well. A full or unreachable collector costs spans, never a
/// request: export runs in the batch processor's task, off the request path.
struct DroppedSpanCounter: LogHandler {
    /// What swift-otel 1.6's `OTelBatchSpanProcessor` logs, with the metadata that holds the count.
    static let failedExport = "Failed to export batch."
    static let queueFull = "Spans were dropped this iteration because queue was full"

    let counter: Counter
    var forward: Logger
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let dropped = Self.droppedSpans(
            message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 })
        if dropped > 0 { counter.increment(by: dropped) }
        var merged = metadata
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        if let error = event.error { merged["error"] = "\(error)" }
        forward.log(level: event.level, "tracing: \(event.message)", metadata: merged)
    }

    /// How many spans a diagnostic message says were lost: the batch size of a failed export, the count of a full
    /// queue's drops, none for anything else.
    static func droppedSpans(message: String, metadata: Logger.Metadata) -> Int {
        let key: String
        switch message {
        case failedExport: key = "batch_size"
        case queueFull: key = "dropped_count"
        default: return 0
        }
        guard case .string(let text) = metadata[key] ?? .string("") else { return 0 }
        return Int(text) ?? 0
    }
}
