import Tracing

/// One request's place in a trace: what the next hop is told (`traceparent` with this request's span as parent,
/// the caller's `tracestate` unchanged), and the exported span when `[tracing]` export is on and the request is
/// sampled or its span is otherwise being recorded. Made by `RequestTracer.start`.
public struct RequestSpan {
    /// The `traceparent` for the upstream: the trace id, this request's span id as the parent, the sampled flag.
    public let forwarded: TraceParent
    /// The caller's `tracestate` (W3C Trace Context section 3.3), passed on only under its valid `traceparent`.
    public let tracestate: String?
    /// The span, when a tracer is exporting; nil with export off.
    let span: (any Span)?
    let includesOpenid: Bool

    /// The trace id as the access log writes it.
    public var traceID: String { forwarded.traceIDHex }

    /// Ends the span, named and described as the OpenTelemetry HTTP server conventions ask (semantic conventions
    /// 1.26, "HTTP Server"): `{method} {route}`, the method, the route, the status (an error at 5xx), and where
    /// the request went. Nothing to do without a span.
    public func end(_ entry: AccessLogEntry, kind: String? = nil) {
        guard let span, span.isRecording else {
            span?.end()
            return
        }
        // The control plane's routes are its paths (/auth/login): "control" alone would name them all the same.
        let route = entry.route == "control" ? String(entry.path) : entry.route ?? ""
        span.operationName = route.isEmpty ? entry.method : "\(entry.method) \(kind.map { "\($0) " } ?? "")\(route)"
        span.attributes["http.request.method"] = entry.method
        if !route.isEmpty { span.attributes["http.route"] = route }
        span.attributes["url.path"] = String(entry.path)
        span.attributes["http.response.status_code"] = entry.status
        span.attributes["gateway.request_id"] = entry.requestID
        if let client = entry.clientAddress { span.attributes["client.address"] = client }
        if let upstream = entry.upstream, let url = UpstreamURL(configText: upstream) {
            let (host, port) = Self.split(url)
            span.attributes["server.address"] = host
            if let port { span.attributes["server.port"] = port }
        }
        if includesOpenid, let openid = entry.openid { span.attributes["enduser.id"] = openid }
        if let error = entry.error { span.attributes["error.type"] = error }
        // HTTP server conventions: a 4xx is the client's doing, not the server span's error.
        if entry.status >= 500 { span.setStatus(SpanStatus(code: .error)) }
        span.end()
    }

    /// Host and port of an upstream URL's authority (`[::1]:8080`, `host:443`, `host`).
    static func split(_ url: UpstreamURL) -> (host: String, port: Int?) {
        if let path = url.unixSocketPath { return (path, nil) }
        let authority = url.authority
        let closing = authority.lastIndex(of: "]")
        if let colon = authority.lastIndex(of: ":"), closing.map({ colon > $0 }) ?? true,
            let port = Int(authority[authority.index(after: colon)...])
        {
            return (String(authority[..<colon]), port)
        }
        return (authority, url.scheme == .https ? 443 : 80)
    }
}
