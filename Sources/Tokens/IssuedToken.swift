import Foundation

/// A freshly signed access token and what the token endpoint answers with it.
public struct IssuedToken: Sendable, Hashable {
    /// The compact JWS, for `access_token`.
    public var token: String
    /// Its `jti`, to revoke it at logout.
    public var jti: String
    /// Its `exp`.
    public var expiresAt: Date
    /// Its `iat`.
    public var issuedAt: Date

    public init(token: String, jti: String, expiresAt: Date, issuedAt: Date) {
        self.token = token
        self.jti = jti
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
    }
}
