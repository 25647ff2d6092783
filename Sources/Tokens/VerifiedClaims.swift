import Foundation

/// The identity and lifetime a verified access token asserts (DESIGN.md section 5: `sub` is the openid).
public struct VerifiedClaims: Sendable, Hashable {
    /// `sub`: the user's openid.
    public var subject: String
    /// `appid`: the mini-program the user logged in through, when present.
    public var appid: String?
    /// `unionid`, when WeChat returned one.
    public var unionid: String?
    /// `jti`: the token's id, the handle for revocation.
    public var jti: String?
    /// `iss`, equal to the configured issuer.
    public var issuer: String
    /// The configured audience the token's `aud` contained.
    public var audience: String
    /// `exp`.
    public var expiresAt: Date
    /// `iat`, when present.
    public var issuedAt: Date?
    /// The `kid` of the ring key that verified the signature.
    public var keyID: String

    public init(
        subject: String, appid: String? = nil, unionid: String? = nil, jti: String? = nil, issuer: String,
        audience: String, expiresAt: Date, issuedAt: Date? = nil, keyID: String
    ) {
        self.subject = subject
        self.appid = appid
        self.unionid = unionid
        self.jti = jti
        self.issuer = issuer
        self.audience = audience
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.keyID = keyID
    }
}
