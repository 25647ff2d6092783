/// What one finished request counts towards in the metrics, decided from its access-log entry alone
/// so that the proxy path needs no metric calls of its own (the entry is the one exit, STYLE.md "Errors").
/// Every label has a bounded set of values: a client cannot create time series by sending odd methods
/// or paths.
public struct RequestClassification: Sendable, Equatable {
    /// `requests_total` labels.
    public struct Labels: Sendable, Hashable {
        /// The route's prefix, `control` for the gateway's own endpoints, `none` when nothing matched.
        public var route: String
        /// One of the RFC 9110 methods, or `other`.
        public var method: String
        public var status: Int
    }

    /// `/auth/login` and `/auth/token` calls, counted by outcome.
    public enum ControlCall: String, Sendable, Equatable {
        case login
        case refresh
    }

    public var labels: Labels
    public var controlCall: ControlCall?
    /// `success`, `rejected` (4xx), `rate_limited` (429), `unavailable` (502-504), `client_closed` (499), `error`.
    /// Worked out when asked, from the status: only logins and refreshes are counted by outcome, not every request.
    public var outcome: String { Self.outcome(status: labels.status) }
    /// Token checks that fail before any verification runs (no token, a malformed header); the verifier's own
    /// rejections are counted where they happen (`CountingTokenVerifier`).
    public var tokenFailure: String?

    /// Extension methods are legal HTTP (RFC 9110 section 9.1) but would give one series per spelling. A switch,
    /// not a `Set`: it runs for every request, and comparing small strings costs less than hashing one.
    static func methodClass(_ method: String) -> String {
        switch method {
        case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE": return method
        default: return "other"
        }
    }

    static func outcome(status: Int) -> String {
        switch status {
        case 200..<400: return "success"
        case 429: return "rate_limited"
        case 499: return "client_closed"
        case 400..<500: return "rejected"
        case 502...504: return "unavailable"
        default: return "error"
        }
    }
}

extension RequestClassification {
    /// Borrows `entry`: an initializer takes its arguments owned, so passing the entry by value made the caller copy
    /// it, a retain of every String in it, and this initializer release them all again (profile: `outlined init with
    /// copy of AccessLogEntry` under `GatewayMetrics.recordRequest`). Decided into locals, then built at once through
    /// the memberwise initializer (hence this extension): assigned field by field, the optimised init built the value
    /// in a temporary, then copied it out and destroyed the temporary, a retain and a release of each String.
    public init(_ entry: borrowing AccessLogEntry) {
        let route = entry.route ?? "none"
        var controlCall: ControlCall?
        var tokenFailure: String?
        // The length first: a route of another length (every proxied one but a 7-byte prefix) is told apart without
        // the call a String comparison of different strings makes.
        if route.utf8.count == 7, route == "control" {
            switch entry.path {
            case "/auth/login": controlCall = .login
            case "/auth/token": controlCall = .refresh
            default: break
            }
        } else if entry.route != nil {
            // GatewayError.code values for the two rejections the authenticator makes without a token check. The
            // status first, and no tuple: a `switch` on `(status, error)` copied the error string for every request.
            if entry.status == 401, entry.error == "unauthorized" {
                tokenFailure = "missing"
            } else if entry.status == 400, entry.error == "invalid_request" {
                tokenFailure = "malformed_header"
            }
        }
        self.init(
            labels: Labels(route: route, method: Self.methodClass(entry.method), status: entry.status),
            controlCall: controlCall, tokenFailure: tokenFailure)
    }
}
