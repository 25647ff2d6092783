import JSON

/// The web login of official account pages and websites ("网页授权", "网站应用微信登录"; docs/wechat.md): the code
/// exchange, the renewal of the user's web access token and `/sns/userinfo`. The same promises as the
/// mini-program's calls: a code goes out once, every failure is a typed `WeChatError`, and no error or description
/// carries a secret or a token (they travel in the query, which no message quotes).
extension WeChatClient {
    /// Exchanges a code from `/connect/oauth2/authorize` or `/connect/qrconnect` for the user's openid and web tokens.
    public func webAccessToken(app: WeChatApp, code: String) async throws(WeChatError) -> WebAccessTokenResult {
        let query = QueryString.encode([
            ("appid", app.appID), ("secret", app.secret), ("code", code), ("grant_type", "authorization_code"),
        ])
        let answer = try await call(method: "GET", path: "/sns/oauth2/access_token?" + query, json: nil)
        return try WebAccessTokenResult(answer: answer)
    }

    /// A new web access token for `refreshToken` (which WeChat keeps the same, 30 days).
    public func refreshWebAccessToken(
        app: WeChatApp, refreshToken: String
    ) async throws(WeChatError)
        -> WebAccessTokenResult
    {
        let query = QueryString.encode([
            ("appid", app.appID), ("grant_type", "refresh_token"), ("refresh_token", refreshToken),
        ])
        let answer = try await call(method: "GET", path: "/sns/oauth2/refresh_token?" + query, json: nil)
        return try WebAccessTokenResult(answer: answer)
    }

    /// The user's nickname and avatar. When WeChat says the web access token is stale (42001 expired, 40001 or
    /// 40014 invalid), it is renewed with the refresh token and the call made once more; the renewed credentials
    /// come back so the caller can keep them.
    public func webUserProfile(
        app: WeChatApp, credentials: WebCredentials, openID: String
    ) async throws(WeChatError) -> (profile: WebUserProfile, renewed: WebCredentials?) {
        do {
            return (try await fetchWebUserProfile(accessToken: credentials.accessToken, openID: openID), nil)
        } catch .api(let errcode, _) where WeChatError.staleAccessTokenErrcodes.contains(errcode) {
            let renewed = WebCredentials(
                try await refreshWebAccessToken(app: app, refreshToken: credentials.refreshToken))
            return (try await fetchWebUserProfile(accessToken: renewed.accessToken, openID: openID), renewed)
        }
    }

    private func fetchWebUserProfile(accessToken: String, openID: String) async throws(WeChatError) -> WebUserProfile {
        let query = QueryString.encode([("access_token", accessToken), ("openid", openID), ("lang", "zh_CN")])
        let answer = try await call(method: "GET", path: "/sns/userinfo?" + query, json: nil)
        return try WebUserProfile(answer: answer, expectedOpenID: openID)
    }
}
