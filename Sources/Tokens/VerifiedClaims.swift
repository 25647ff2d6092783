import Foundation

/// The identity and lifetime a verified access token asserts (docs/architecture.md, "The control plane": `sub` is the
/// openid).
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
    /// `sid`: the login session (refresh-token family) the token was issued for, so logout can end it
    /// (the claim name of OpenID Connect Front-Channel Logout, section 3).
    public var sessionID: String?
    /// `app_kind`: the kind of app the user logged in through; `.miniprogram` for a token without the claim.
    public var appKind: AppKind

    public init(
        subject: String, appid: String? = nil, unionid: String? = nil, jti: String? = nil, issuer: String,
        audience: String, expiresAt: Date, issuedAt: Date? = nil, keyID: String, sessionID: String? = nil,
        appKind: AppKind = .miniprogram
    ) {
        self.appKind = appKind
        self.sessionID = sessionID
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
