import NIOHTTP1

/// What the admin listener answers for a request line: a pure decision, so the handler only performs it.
public enum AdminEndpoint: Sendable, Equatable {
    /// `GET /healthz`: the process is up and its event loops answer.
    case health
    /// `GET /readyz`: a configuration is loaded, the store answers, the gateway is not draining.
    case readiness
    /// `GET /metrics`: the Prometheus text exposition.
    case metrics
    /// `GET /sessions?openid=X`: a user's live sessions, for an operator.
    case listSessions
    /// `POST /sessions/revoke`: ends a user's sessions (or one session) on every instance.
    case revokeSessions
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
        case "/sessions": endpoint = .listSessions
        case "/sessions/revoke":
            self = method == .POST ? .revokeSessions : .methodNotAllowed
            return
        default:
            self = .notFound
            return
        }
        self = method == .GET || method == .HEAD ? endpoint : .methodNotAllowed
    }

    /// What `[server] admin_token` guards: what tells about users or traffic, or ends sessions. Probes stay open, so
    /// an orchestrator needs no credential.
    public var requiresAdminToken: Bool {
        switch self {
        case .metrics, .listSessions, .revokeSessions: true
        case .health, .readiness, .notFound, .methodNotAllowed: false
        }
    }

    /// The `Allow` field of a 405 for the path of `uri`.
    public static func allowedMethods(uri: String) -> String {
        uri.prefix { $0 != "?" } == "/sessions/revoke" ? "POST" : "GET, HEAD"
    }
}
