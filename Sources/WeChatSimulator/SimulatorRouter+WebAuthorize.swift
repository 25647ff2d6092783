extension SimulatorRouter {
    /// The scopes of an official account's web page authorization ("公众号网页授权").
    static let officialAccountScopes: Set<String> = ["snsapi_base", "snsapi_userinfo"]
    /// The scope of a website's QR code login ("网站应用微信登录").
    static let websiteScopes: Set<String> = ["snsapi_login"]
    /// The simulated user when an authorize URL names none with `sim_user`.
    static let defaultWebUser = "wechat-user"

    /// `GET /connect/oauth2/authorize` and `GET /connect/qrconnect`: inside WeChat the user agrees (or scans the QR
    /// code with the phone) and WeChat sends the browser to `redirect_uri?code=CODE&state=STATE`. The simulator has
    /// no phone and no consent screen, so it answers that redirect at once. `sim_user` (not a WeChat parameter,
    /// which WeChat would ignore) names the user, read like a login code (`openid:X`, `…+union`, `snapshot…`).
    /// A bad request gets an error page and never a redirect, as in WeChat.
    func authorize(_ query: [String: String], scopes: Set<String>) -> SimulatorResponse {
        guard let appID = query["appid"], !appID.isEmpty else { return .errorPage("appid missing (参数错误)") }
        guard configuration.apps[appID] != nil else { return .errorPage("unknown appid (appid 参数错误)") }
        guard let redirect = SimulatorRedirect(query["redirect_uri"], allowedHosts: configuration.redirectHosts)
        else {
            return .errorPage(
                "redirect_uri 参数错误: an absolute http(s) URL on a loopback host or a --redirect-host is required")
        }
        guard query["response_type"] == "code" else { return .errorPage("response_type must be code (参数错误)") }
        guard let scope = query["scope"], scopes.contains(scope) else {
            return .errorPage("scope 参数错误: expected " + scopes.sorted().joined(separator: " or "))
        }
        let user = query["sim_user"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultWebUser
        let code = state.web.issueCode(.init(appID: appID, scope: scope, user: user))
        return .redirect(to: redirect.location(code: code, state: query["state"] ?? ""))
    }
}
