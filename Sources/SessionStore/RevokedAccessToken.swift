import Foundation

/// A logged-out access token (or a whole session, keyed by its revocation key), refused until `expiresAt`,
/// after which the token would be refused as expired anyway and `purgeExpired` drops it.
public struct RevokedAccessToken: Sendable, Equatable {
    public var jti: String
    public var expiresAt: Date

    public init(jti: String, expiresAt: Date) {
        self.jti = jti
        self.expiresAt = expiresAt
    }
}
