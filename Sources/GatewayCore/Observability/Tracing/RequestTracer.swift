import Tracing

/// Starts every request's span (docs/architecture.md, "Tracing"). With `[tracing]` export off there is no tracer:
/// a request continues its caller's valid `traceparent` or starts a trace, with ids from `TraceIDSource`, and
/// nothing else happens (no swift-otel call on the hot path). With export on, swift-otel's tracer reads the caller's
/// context, samples (parent-based: the caller's flag is followed either way, new traces by `sample_ratio`), and
/// makes the span whose id the upstream sees as its parent.
public final class RequestTracer: Sendable {
    let tracer: (any Tracer)?
    let includesOpenid: Bool

    /// Export off.
    public static let off = RequestTracer(tracer: nil, includesOpenid: false)

    public init(tracer: (any Tracer)?, includesOpenid: Bool) {
        self.tracer = tracer
        self.includesOpenid = includesOpenid
    }

    /// A request's span, under `incoming` (the caller's valid `traceparent`, nil to start a trace) and its
    /// `tracestate`, which is dropped with an invalid or missing `traceparent` (W3C Trace Context section 3.3).
    func start(_ name: String, kind: SpanKind = .server, incoming: TraceParent?, tracestate: String?) -> RequestSpan {
        let state = incoming == nil ? nil : tracestate
        guard let tracer else {
            return RequestSpan(
                forwarded: Self.forwarded(incoming), tracestate: state, span: nil, includesOpenid: false)
        }
        var context = ServiceContext.topLevel
        if let incoming {
            var fields = ["traceparent": incoming.headerValue]
            if let state { fields["tracestate"] = state }
            tracer.extract(fields, into: &context, using: HeaderCarrier())
        }
        let span = tracer.startSpan(name, context: context, ofKind: kind)
        var next: [String: String] = [:]
        tracer.inject(span.context, into: &next, using: HeaderCarrier())
        let forwarded = next["traceparent"].flatMap { TraceParent($0) } ?? Self.forwarded(incoming)
        return RequestSpan(forwarded: forwarded, tracestate: state, span: span, includesOpenid: includesOpenid)
    }

    /// Without a tracer: the caller's trace and flag with a new span id, or a new unsampled trace (nothing records
    /// it here, so the flag does not claim it).
    static func forwarded(_ incoming: TraceParent?) -> TraceParent {
        if let incoming { return incoming.child(spanID: TraceIDSource.spanID()) }
        let id = TraceIDSource.traceID()
        return TraceParent(traceIDHigh: id.high, traceIDLow: id.low, parentID: TraceIDSource.spanID(), flags: 0)
    }

    /// The scope an `/auth/*` request's work runs in, so that its WeChat call and store operations become child
    /// spans (`TraceScope`); nil when nothing records them.
    func scope(for span: RequestSpan) -> TraceScope? {
        guard let tracer, let recorded = span.span, recorded.isRecording else { return nil }
        return TraceScope(tracer: tracer, context: recorded.context)
    }
}
