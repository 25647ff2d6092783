import Foundation

/// One stored refresh token. Only the hash of the token is kept, so a copy of the database cannot be
/// replayed as tokens.
public struct RefreshTokenRecord: Sendable, Equatable {
    /// `RefreshTokenHash.of(token)`.
    public var hash: String
    public var familyID: String
    public var issuedAt: Date
    public var expiresAt: Date
    /// When the token was exchanged for its successor; a second use after this is theft.
    public var spentAt: Date?

    public init(hash: String, familyID: String, issuedAt: Date, expiresAt: Date, spentAt: Date?) {
        self.hash = hash
        self.familyID = familyID
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.spentAt = spentAt
    }
}
