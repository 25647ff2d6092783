import Tokens

/// Why a request was not let through, as RFC 6750 section 3.1 distinguishes it.
public enum AuthRejection: Error, Sendable, Equatable {
    /// No credentials: 401 with a bare `WWW-Authenticate: Bearer realm=...`.
    case missingToken
    /// The Authorization header is not a single `Bearer <token>`: 400 `invalid_request`.
    case malformedAuthorization
    /// A token was presented and failed: 401 `error="invalid_token"`.
    case invalidToken(TokenRejection)

    /// The metric label and access-log reason.
    public var reason: String {
        switch self {
        case .missingToken: return "missing"
        case .malformedAuthorization: return "malformed_header"
        case .invalidToken(let rejection): return rejection.reason
        }
    }
}
