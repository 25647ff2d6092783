import GatewayCore

/// W3C Trace Context on the engine's path (issue 23): the caller's `traceparent` is continued when it is one valid
/// line (a malformed or repeated one is ignored and a trace started, never refused), its `tracestate` goes along only
/// under it, and the upstream gets the gateway's span as the parent.
extension EngineRequestPlanner {
    /// The request's trace from `tracer`, read from the head's byte view (the `traceparent` is parsed in place).
    static func startTrace(_ tracer: RequestTracer, _ head: RequestHead, in buffer: UnsafeRawPointer) -> RequestSpan {
        var traceparent: ByteSpan?
        var traceparentCount = 0
        var tracestate: ByteSpan?
        for field in head.fields {
            let name = field.name.bytes(in: buffer)
            if name.count == 11 && ConnectionNames.equalsLowercased(name, "traceparent") {
                traceparent = traceparent ?? field.value
                traceparentCount += 1
            } else if name.count == 10 && tracestate == nil && ConnectionNames.equalsLowercased(name, "tracestate") {
                tracestate = field.value
            }
        }
        let incoming = traceparentCount == 1 ? traceparent.flatMap { TraceParent($0.bytes(in: buffer)) } : nil
        let state = incoming == nil ? nil : tracestate.map { String(decoding: $0.bytes(in: buffer), as: UTF8.self) }
        return tracer.start(head.method, incoming: incoming, tracestate: state)
    }

    /// Whether a request field is Trace Context's (dropped: the gateway sends its own).
    static func isTraceContextField(_ name: UnsafeRawBufferPointer) -> Bool {
        (name.count == 11 && ConnectionNames.equalsLowercased(name, "traceparent"))
            || (name.count == 10 && ConnectionNames.equalsLowercased(name, "tracestate"))
    }
}
