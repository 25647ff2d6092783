import JSON

extension SimulatorRouter {
    /// `GET /sns/oauth2/access_token` ("通过code换取网页授权access_token"). A code from an authorize page gives its
    /// user and scope; any other code is read like a jscode2session code (`SimulatorCodeRule`, `openid:X`, `+union`)
    /// with scope snsapi_userinfo. Users whose text starts with `snapshot` are snapshot-mode virtual users.
    func webAccessToken(_ query: [String: String]) -> SimulatorResponse {
        if let failure = checkCredentials(appID: query["appid"], secret: query["secret"]) { return failure }
        guard query["grant_type"] == "authorization_code" else { return .error(40002, "invalid grant_type") }
        guard let appID = query["appid"], let code = query["code"], !code.isEmpty else {
            return .error(41008, "missing code")
        }
        var delay: Duration?
        if !state.web.wasIssued(code: code) {
            let (hold, refusal) = codeRule(code)
            if let refusal { return refusal }
            delay = hold
        }
        let grant: SimulatorWebState.Grant
        switch state.web.redeem(appID: appID, code: code) {
        case .otherApp: return .error(40029, "invalid code")
        case .spent: return .error(40163, "code been used")
        case .issued(let issued): grant = issued
        case .direct: grant = .init(appID: appID, scope: "snsapi_userinfo", user: code)
        }
        let snapshot = grant.user.hasPrefix("snapshot")
        // A snapshot-mode user is a virtual account: its own openid, never a unionid ("快照页模式").
        let openID =
            snapshot
            ? SimulatorIdentity.derive("snapshot|" + appID + "|" + grant.user)
            : SimulatorIdentity.openID(appID: appID, code: grant.user)
        let tokens = state.web.issueTokens(grant: grant, openID: openID, lifetime: configuration.accessTokenLifetime)
        var body: [String: JSONValue] = [
            "access_token": .string(tokens.accessToken), "expires_in": .int(lifetimeSeconds),
            "refresh_token": .string(tokens.refreshToken), "openid": .string(openID), "scope": .string(grant.scope),
        ]
        if snapshot {
            body["is_snapshotuser"] = .int(1)
        } else if let unionID = SimulatorIdentity.unionID(code: grant.user) {
            body["unionid"] = .string(unionID)
        }
        return SimulatorResponse(body: .object(body), delay: delay)
    }

    /// `GET /sns/oauth2/refresh_token` ("刷新access_token"): a new access token, the same refresh token.
    func webRefreshToken(_ query: [String: String]) -> SimulatorResponse {
        guard let appID = query["appid"], !appID.isEmpty else { return .error(41002, "appid missing") }
        guard configuration.apps[appID] != nil else { return .error(40013, "invalid appid") }
        guard query["grant_type"] == "refresh_token" else { return .error(40002, "invalid grant_type") }
        guard let refreshToken = query["refresh_token"], !refreshToken.isEmpty else {
            return .error(41003, "refresh_token missing")
        }
        let (check, accessToken) = state.web.refresh(
            appID: appID, refreshToken: refreshToken, lifetime: configuration.accessTokenLifetime)
        switch check {
        case .unknown: return .error(40030, "invalid refresh_token")
        case .expired: return .error(42002, "refresh_token timeout")
        case .valid(let session):
            return SimulatorResponse(
                body: .object([
                    "access_token": .string(accessToken ?? ""), "expires_in": .int(lifetimeSeconds),
                    "refresh_token": .string(refreshToken), "openid": .string(session.openID),
                    "scope": .string(session.grant.scope),
                ]))
        }
    }

    /// `GET /sns/userinfo` ("拉取用户信息"): needs a web access token of scope snsapi_userinfo or snsapi_login.
    /// The nickname is the user's name (`openid:alice` → `alice`), the avatar a qlogo-shaped URL.
    func webUserInfo(_ query: [String: String]) -> SimulatorResponse {
        guard let token = query["access_token"], !token.isEmpty else { return .error(41001, "access_token missing") }
        let session: SimulatorWebState.Session
        switch state.web.checkAccessToken(token) {
        case .unknown: return .error(40001, "invalid credential, access_token is invalid or not latest")
        case .expired: return .error(42001, "access_token expired")
        case .valid(let valid): session = valid
        }
        guard query["openid"] == session.openID else { return .error(40003, "invalid openid") }
        guard session.grant.scope == "snsapi_userinfo" || session.grant.scope == "snsapi_login" else {
            return .error(48001, "api unauthorized")
        }
        var body: [String: JSONValue] = [
            "openid": .string(session.openID),
            "nickname": .string(SimulatorIdentity.nickname(user: session.grant.user)),
            "sex": .int(0), "province": .string(""), "city": .string(""), "country": .string(""),
            "headimgurl": .string("https://thirdwx.qlogo.cn/mmopen/vi_32/sim-" + session.openID + "/132"),
            "privilege": .array([]),
        ]
        if !session.grant.user.hasPrefix("snapshot"), let unionID = SimulatorIdentity.unionID(code: session.grant.user)
        {
            body["unionid"] = .string(unionID)
        }
        return SimulatorResponse(body: .object(body))
    }

    private var lifetimeSeconds: Int { max(Int(configuration.accessTokenLifetime.components.seconds), 1) }
}
