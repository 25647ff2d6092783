import Tracing

/// The recorded span an `/auth/*` request runs under, as a task-local value: the store (`TracingSessionStore`) and
/// the WeChat client's report (`GatewayService.makeRuntime`) make child spans of it without the endpoints passing
/// anything along. Outside such a request (start-up, the admin listener, export off) there is none and nothing is
/// recorded.
public struct TraceScope: Sendable {
    let tracer: any Tracer
    let context: ServiceContext

    @TaskLocal static var current: TraceScope?

    /// Runs `body` under this scope (the engine's control endpoints, issue 23).
    public func run<Value>(_ body: () async -> Value) async -> Value {
        await Self.$current.withValue(self) { await body() }
    }

    /// Runs `body` in a child span named `name` (kind client: the gateway calling out), marked as an error when it
    /// throws.
    static func child<Value, Failure: Error>(
        _ name: String, attributes: [String: String] = [:], _ body: () async throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        guard let scope = current else { return try await body() }
        let span = scope.tracer.startSpan(name, context: scope.context, ofKind: .client)
        for (key, value) in attributes { span.attributes[key] = value }
        defer { span.end() }
        do {
            return try await body()
        } catch {
            span.attributes["error.type"] = "\(type(of: error))"
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    /// A child span for work that has already ended, `seconds` long (a WeChat call, reported when it returns).
    static func record(_ name: String, seconds: Double, attributes: [String: SpanAttribute], failed: Bool) {
        guard let scope = current else { return }
        let span = scope.tracer.startSpan(
            name, context: scope.context, ofKind: .client, at: SpanInstant.ago(seconds))
        for (key, value) in attributes { span.attributes[key] = value }
        if failed { span.setStatus(SpanStatus(code: .error)) }
        span.end()
    }
}
