import CurlHTTP

/// A failed upstream transfer, classified from libcurl's result code (`CurlError(curlCode:)`, `GatewayError(_:)`) for
/// the engine's workers (issue 23): the answer, whether a retry elsewhere may follow (docs/configuration.md,
/// "Forwarding"), and the access log's `error`.
public struct UpstreamFailure: Sendable, Equatable {
    public var answer: GatewayError
    /// The connection could not be made, or died before the request went out: the upstream is ejected for a while
    /// and an idempotent bodiless request may be tried once on another.
    public var couldNotConnect: Bool
    /// The access log's `error`, e.g. `upstream_unreachable: Couldn't connect to server`.
    public var logText: String

    public init(curlCode: Int, message: String, requestWasSent: Bool) {
        let error = CurlError(curlCode: curlCode, message: message, requestWasSent: requestWasSent)
        answer = GatewayError(error)
        if case .couldNotConnect = error { couldNotConnect = true } else { couldNotConnect = false }
        logText = Self.describe(error)
    }

    /// The access log's `error` for a failed transfer: a stable prefix to filter on, then libcurl's words.
    static func describe(_ error: CurlError) -> String {
        switch error {
        case .couldNotConnect(let detail): return "upstream_unreachable: \(detail)"
        case .timedOut(let detail): return "upstream_timeout: \(detail)"
        case .brokenResponse(let detail): return "upstream_broken: \(detail)"
        case .cancelled: return "cancelled"
        case .requestBodyFailed(let detail): return "request_body_failed: \(detail)"
        case .other(let code, let detail): return "curl_\(code): \(detail)"
        }
    }

    /// docs/configuration.md, "Forwarding": an idempotent request without a body whose first attempt never reached
    /// its upstream is tried once more, on another upstream of its route.
    public static func mayRetry(method: String, hasBody: Bool, attempts: Int, couldNotConnect: Bool) -> Bool {
        couldNotConnect && attempts == 1 && !hasBody && isIdempotent(method)
    }

    /// RFC 9110 section 9.2.2's idempotent methods.
    public static func isIdempotent(_ method: String) -> Bool {
        switch method {
        case "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE": return true
        default: return false
        }
    }
}
