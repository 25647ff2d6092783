import NIOCore

/// One request's access-log line in the making, and when it started. Each in-flight state of
/// `ProxyHandler` holds exactly one; `ProxyHandler.finish` takes it out of the state and writes it.
struct RequestRecord {
    var log: AccessLogEntry
    let startedAt: NIODeadline
    /// The request's place in its trace (`RequestTracer`); nil only for bytes that never made a request.
    var trace: RequestSpan?
    /// What CORS adds to this request's answer, whoever makes it: decided from its head (`CorsPolicy`).
    var cors = CorsPolicy.AnswerFields.none
}

/// How a request ended, as `ProxyHandler.finish` records it.
enum RequestOutcome {
    /// The upstream's whole answer went to the client (its status and bytes are already in the log).
    case forwarded
    /// The answer was cut off after its head had gone out (the client sees a truncated response).
    case cutOff(error: String)
    /// Answered by the gateway itself: a local error or a control-plane answer.
    case answered(status: Int, bodyBytes: Int, error: String?)
    /// The client went away before its answer started (logged 499, as nginx does).
    case clientClosed
}
