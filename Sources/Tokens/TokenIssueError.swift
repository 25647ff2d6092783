/// Why ``TokenIssuer`` could not produce a token.
public enum TokenIssueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The lifetime was under one second.
    case invalidLifetime(Double)
    /// The subject (openid) was empty.
    case emptySubject
    /// An identity value (`sub`, `appid`, `unionid`) could not become an upstream header value (``IdentityClaim``).
    case unusableIdentity(claim: String, problem: String)
    /// The cryptographic library failed to sign (detail names the error type, never key material).
    case signingFailed(String)

    public var description: String {
        switch self {
        case .invalidLifetime(let seconds): return "token lifetime must be at least 1 second, got \(seconds)"
        case .emptySubject: return "token subject (openid) must not be empty"
        case .unusableIdentity(let claim, let problem):
            return "token claim \(claim) \(problem); it would become an identity header upstream"
        case .signingFailed(let detail): return "signing the token failed: \(detail)"
        }
    }
}
