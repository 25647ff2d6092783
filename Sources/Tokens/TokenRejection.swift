/// Why a bearer token was not accepted. Every reason maps to 401 `invalid_token` (RFC 6750 section 3.1);
/// the distinction is for logs and the `token verification failures by reason` metric.
public enum TokenRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not a JWS compact serialization: wrong number of parts, bad base64url, JSON that does not parse,
    /// a claim of the wrong type, a `crit` header, or longer than the verifier's limit.
    case malformed
    /// The header's `alg` is not one the gateway accepts (`none` included), or differs from the
    /// algorithm of the key the token names.
    case unsupportedAlgorithm
    /// The header's `kid` names no key of the ring.
    case unknownKey
    /// The signature does not verify.
    case badSignature
    /// `exp` is in the past, beyond the leeway.
    case expired
    /// `nbf` is in the future, beyond the leeway.
    case notYetValid
    /// `iat` is in the future, beyond the leeway.
    case issuedInFuture
    /// `iss` is not the configured issuer.
    case wrongIssuer
    /// `aud` (a string or an array of strings) does not contain the configured audience.
    case wrongAudience
    /// A required claim (`exp`, `sub`, `iss`, `aud`) is absent.
    case missingClaim(String)
    /// The token's `jti` has been revoked (logout).
    case revoked
    /// A claim has the right type but a value the gateway must not act on: an identity value (`sub`, `appid`,
    /// `unionid`) that could not be an upstream header value, or a NumericDate (`exp`, `nbf`, `iat`) that is not
    /// finite or not between 1970 and 9999.
    case invalidClaim(String)

    /// A short stable label, usable as a metric label value.
    public var reason: String {
        switch self {
        case .malformed: return "malformed"
        case .unsupportedAlgorithm: return "unsupported_algorithm"
        case .unknownKey: return "unknown_key"
        case .badSignature: return "bad_signature"
        case .expired: return "expired"
        case .notYetValid: return "not_yet_valid"
        case .issuedInFuture: return "issued_in_future"
        case .wrongIssuer: return "wrong_issuer"
        case .wrongAudience: return "wrong_audience"
        case .missingClaim: return "missing_claim"
        case .revoked: return "revoked"
        case .invalidClaim: return "invalid_claim"
        }
    }

    /// A human-readable explanation, suitable for `error_description`; never contains the token.
    public var description: String {
        switch self {
        case .malformed: return "the token is malformed"
        case .unsupportedAlgorithm: return "the token's algorithm is not accepted"
        case .unknownKey: return "the token was signed with an unknown key"
        case .badSignature: return "the token's signature is invalid"
        case .expired: return "the token has expired"
        case .notYetValid: return "the token is not valid yet"
        case .issuedInFuture: return "the token was issued in the future"
        case .wrongIssuer: return "the token was issued by another issuer"
        case .wrongAudience: return "the token is meant for another audience"
        case .missingClaim(let name): return "the token lacks the \"\(name)\" claim"
        case .revoked: return "the token has been revoked"
        case .invalidClaim(let name): return "the token's \"\(name)\" claim has an unusable value"
        }
    }
}
