import JSON

/// Makes opaque refresh tokens: 256 bits from the system's CSPRNG, base64url without padding
/// (43 characters, safe in URLs and form bodies without escaping).
public struct RefreshTokenGenerator: Sendable {
    public init() {}

    /// A new token. Store only `RefreshTokenHash.of(token)`.
    public func makeToken() -> String {
        RandomBytes.base64URL(byteCount: 32)
    }
}
