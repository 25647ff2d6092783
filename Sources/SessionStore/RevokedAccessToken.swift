import Foundation

/// A logged-out access token, remembered until it would have expired (then `purgeExpired` drops it).
struct RevokedAccessToken: Sendable, Equatable {
    var jti: String
    var expiresAt: Date
}
