import Foundation
import GatewayCore

/// What the access-log line of the request being answered needs, gathered at its head and completed at its end;
/// written once, by `EngineWorker.finish`, whatever ended the request.
///
/// A class: the worker reads and updates it through `EngineClient.request` at every phase, and as a struct each
/// `client.request?.field` read copied the whole of it (a dozen retains and releases), which the profile showed on
/// every proxied request; one allocation per request costs less.
final class InFlightRequest {
    var requestID: String
    var method: String
    var path: Substring
    var route: String?
    var upstream: String?
    var openid: String?
    var isHead: Bool
    var isHTTP10: Bool
    var startedAt: Date
    var status = 0
    var bytesIn = 0
    var bytesOut = 0
    /// The access log's `error` when it is not the answer's code (a 408 logged as `client_timeout`).
    var error: String?
    /// The route's upstreams and the one picked, the attempts made, and the path and query a retry elsewhere is
    /// sent to (`EngineWorker+Upstreams`); the failure of the last attempt, for its answer and log line.
    var pool: UpstreamPool?
    var upstreamIndex = 0
    var attempts = 1
    var forwardedPath: Substring = ""
    var forwardedQuery: Substring = ""
    var failure: UpstreamFailure?
    /// What `[cors]` adds to this request's answer, whoever makes it.
    var cors = CorsPolicy.AnswerFields.none
    /// The request's trace (nil without a service's tracer): its id in the log line, its span ended with it.
    var trace: RequestSpan?
    /// libcurl's total time of the transfer (the log's `upstream_ms`).
    var upstreamSeconds: Double?

    init(
        requestID: String, method: String, path: Substring, route: String?, upstream: String?, openid: String?,
        isHead: Bool, isHTTP10: Bool, startedAt: Date
    ) {
        self.requestID = requestID
        self.method = method
        self.path = path
        self.route = route
        self.upstream = upstream
        self.openid = openid
        self.isHead = isHead
        self.isHTTP10 = isHTTP10
        self.startedAt = startedAt
    }

    /// The access-log line of the request as it ended, its strings moved out rather than copied: the caller holds the
    /// only reference by then (`EngineWorker.finish` took it from its connection) and reads nothing else of them, and
    /// each copy was a retain here and a release when the entry went (profile: `AccessLogEntry` init and destroy under
    /// `finish`). `error` is the log's when the request has none of its own.
    func takeLogEntry(clientAddress: String?, error: String?, endedAt: Date) -> AccessLogEntry {
        var entry = AccessLogEntry(
            time: startedAt, requestID: Self.take(&requestID, leaving: ""), clientAddress: clientAddress,
            method: Self.take(&method, leaving: ""), path: Self.take(&path, leaving: ""))
        entry.route = route.take()
        entry.status = status
        entry.bytesIn = bytesIn
        entry.bytesOut = bytesOut
        entry.durationSeconds = endedAt.timeIntervalSince(startedAt)
        entry.upstream = upstream.take()
        entry.openid = openid.take()
        entry.error = self.error.take() ?? error
        entry.upstreamSeconds = upstreamSeconds
        return entry
    }

    private static func take<Value>(_ value: inout Value, leaving empty: Value) -> Value {
        var taken = empty
        swap(&taken, &value)
        return taken
    }
}
