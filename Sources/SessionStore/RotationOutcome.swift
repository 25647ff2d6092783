/// What presenting a refresh token to `/auth/token` led to.
public enum RotationOutcome: Sendable, Equatable {
    /// The token was valid and is now spent; its successor is stored. Carries the (still active) family.
    case rotated(SessionRecord)
    /// The token had already been spent: treated as theft, the whole family is now revoked
    /// (RFC 9700 section 4.14.2), or stays revoked if it already was. Carries the family id.
    case reused(familyID: String)
    /// The token or its family is past its expiry.
    case expired
    /// The token is unspent but its family had already been revoked (logout, RFC 7009 revocation, reuse).
    case revoked
    /// No such token (never issued, or purged).
    case unknown
}
