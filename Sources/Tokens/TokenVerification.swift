/// The outcome of checking one bearer token: a value, not a thrown error, because rejection is an
/// ordinary answer on the hot path.
public enum TokenVerification: Sendable, Equatable {
    case valid(VerifiedClaims)
    case invalid(TokenRejection)

    /// The claims when valid.
    public var claims: VerifiedClaims? {
        if case .valid(let claims) = self { return claims }
        return nil
    }

    /// The reason when invalid.
    public var rejection: TokenRejection? {
        if case .invalid(let rejection) = self { return rejection }
        return nil
    }
}
