import Tokens

/// Who made a request, as proved by a verified access token; what the upstream learns through the
/// identity headers.
public struct Identity: Sendable, Equatable {
    public var openid: String
    public var unionid: String?
    public var appid: String?
    /// The token's id, for logout and logs (never the token itself).
    public var jti: String?
    /// The token's `sid` (its login session), so a logout can close what the session holds open (tunnels).
    public var sessionID: String?
    /// The kind of app the token was issued for (`X-App-Kind`); `.miniprogram` for tokens without the claim.
    public var appKind: AppKind

    public init(
        openid: String, unionid: String? = nil, appid: String? = nil, jti: String? = nil, sessionID: String? = nil,
        appKind: AppKind = .miniprogram
    ) {
        self.appKind = appKind
        self.openid = openid
        self.unionid = unionid
        self.appid = appid
        self.jti = jti
        self.sessionID = sessionID
    }
}
