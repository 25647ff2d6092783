import Foundation

/// What an operator may see of a live session (`GET /sessions` on the admin listener): when it began, when it was
/// last refreshed and when it ends. Never a token, a token's hash or the WeChat `session_key`.
public struct SessionSummary: Sendable, Equatable {
    /// The family's id: the `sid` claim of its access tokens.
    public var familyID: String
    public var appid: String
    public var createdAt: Date
    /// When its newest refresh token was issued (the login itself when it was never refreshed).
    public var lastRefreshedAt: Date
    public var expiresAt: Date

    public init(familyID: String, appid: String, createdAt: Date, lastRefreshedAt: Date, expiresAt: Date) {
        self.familyID = familyID
        self.appid = appid
        self.createdAt = createdAt
        self.lastRefreshedAt = lastRefreshedAt
        self.expiresAt = expiresAt
    }
}
