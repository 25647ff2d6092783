import Tracing

/// Starts every request's span (docs/architecture.md, "Tracing"). With `[tracing]` export off there is no tracer:
/// a request continues its caller's valid `traceparent` or starts a trace, with ids from `TraceIDSource`, and
/// nothing else happens (no swift-otel call on the hot path). With export on the sampling decision is made here,
/// parent-based as OpenTelemetry's `ParentBased(TraceIdRatioBased)`: a caller's flag is followed either way, a new
/// trace is sampled by `sample_ratio`. Only a sampled request goes through swift-otel's tracer (which then samples
/// everything it is given), so at `sample_ratio = 0.01` the other 99% cost what export off costs: swift-otel's own
/// ids come from `SystemRandomNumberGenerator`, a `getrandom` call per id.
public final class RequestTracer: Sendable {
    let tracer: (any Tracer)?
    let includesOpenid: Bool
    /// New traces whose id's low half is below this are sampled; nil: all of them.
    let sampleThreshold: UInt64?

    /// Export off.
    public static let off = RequestTracer(tracer: nil, includesOpenid: false)

    public init(tracer: (any Tracer)?, includesOpenid: Bool, sampleRatio: Double = 1) {
        self.tracer = tracer
        self.includesOpenid = includesOpenid
        self.sampleThreshold = Self.threshold(sampleRatio)
    }

    /// `ratio` of the 64-bit range (OpenTelemetry's TraceIdRatioBased compares the id with such a bound); nil at 1.
    static func threshold(_ ratio: Double) -> UInt64? {
        guard ratio < 1 else { return nil }
        guard ratio > 0 else { return 0 }
        return UInt64(ratio * 0x1p64)
    }

    /// A request's span, under `incoming` (the caller's valid `traceparent`, nil to start a trace) and its
    /// `tracestate`, which is dropped with an invalid or missing `traceparent` (W3C Trace Context section 3.3).
    public func start(
        _ name: String, kind: SpanKind = .server, incoming: TraceParent?, tracestate: String?
    ) -> RequestSpan {
        let state = incoming == nil ? nil : tracestate
        let cheap = RequestSpan(
            forwarded: Self.forwarded(incoming), tracestate: state, span: nil, includesOpenid: false)
        guard let tracer else { return cheap }
        if let incoming {
            guard incoming.isSampled else { return cheap }
        } else if let sampleThreshold, cheap.forwarded.traceIDLow >= sampleThreshold {
            return cheap
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
    public func scope(for span: RequestSpan) -> TraceScope? {
        guard let tracer, let recorded = span.span, recorded.isRecording else { return nil }
        return TraceScope(tracer: tracer, context: recorded.context)
    }
}
