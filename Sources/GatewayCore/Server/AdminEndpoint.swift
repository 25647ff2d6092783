import NIOHTTP1

/// What the admin listener answers for a request line: a pure decision, so the handler only performs it.
public enum AdminEndpoint: Sendable, Equatable {
    /// `GET /healthz`: the process is up and its event loops answer.
    case health
    /// `GET /readyz`: a configuration is loaded, the store answers, the gateway is not draining.
    case readiness
    /// `GET /metrics`: the Prometheus text exposition.
    case metrics
    case notFound
    /// Known path, wrong method (RFC 9110 section 15.5.6: the answer lists the allowed ones).
    case methodNotAllowed

    public init(method: HTTPMethod, uri: String) {
        // Probes and scrapers may add a query (`/metrics?name[]=...`); it does not change the answer.
        let path = uri.prefix { $0 != "?" }
        let endpoint: AdminEndpoint
        switch path {
        case "/healthz": endpoint = .health
        case "/readyz": endpoint = .readiness
        case "/metrics": endpoint = .metrics
        default:
            self = .notFound
            return
        }
        self = method == .GET || method == .HEAD ? endpoint : .methodNotAllowed
    }
}
