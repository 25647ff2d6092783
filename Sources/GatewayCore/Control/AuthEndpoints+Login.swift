import Foundation
import JSON
import SessionStore
import Tokens
import WeChat

/// `/auth/login` and `/auth/phone`: the two endpoints that spend a single-use WeChat code. A login for an official
/// account page or a website exchanges its code with the web authorization instead (`+Web`).
extension AuthEndpoints {
    func login(_ request: ControlRequest, _ form: FormBody) async throws(OAuthError) -> ControlResponse {
        guard let code = form["code"], !code.isEmpty else { throw .missingParameter("code") }
        guard code.utf8.count <= 512 else { throw .codeTooLong }
        let app = try loginApp(named: form["appid"])
        // A code spent on a session the store cannot keep is lost to the user: when the store was last seen
        // down, ask it first and refuse before WeChat is called.
        if !store.isAvailable {
            try await fromStore { () async throws(SessionStoreError) in try await store.ping() }
        }
        if app.kind.isWeb { return try await webLogin(request, app: app, code: code) }
        // A login code is used once: it is never retried, whatever the failure (docs/wechat.md).
        let session: Code2SessionResult
        do {
            session = try await wechat.code2Session(app: WeChatApp(appID: app.appid, secret: app.secret), code: code)
        } catch {
            logWeChatRefusal(error, "login refused by WeChat", request)
            throw OAuthError(wechatFailure: error, code: .login)
        }
        return try await startSession(
            openid: session.openID, unionid: session.unionID, appid: app.appid, sessionKey: session.sessionKey)
    }

    /// A new refresh family for a user WeChat vouched for, and its first tokens. `sessionKey` is the WeChat secret
    /// kept for the user (a mini-program's session_key, or a web login's `WebCredentials`), never answered.
    func startSession(
        openid: String, unionid: String?, appid: String, sessionKey: String
    ) async throws(OAuthError) -> ControlResponse {
        let now = Date()
        let refreshToken = refreshTokens.makeToken()
        let refreshExpiresAt = now.addingTimeInterval(config.tokens.refreshTTL.seconds)
        let record = try await fromStore { () async throws(SessionStoreError) in
            try await store.createSession(
                openid: openid, unionid: unionid, appid: appid, sessionKey: sessionKey,
                refreshTokenHash: RefreshTokenHash.of(refreshToken), refreshExpiresAt: refreshExpiresAt, now: now)
        }
        return try tokenResponse(for: record, refreshToken: refreshToken, refreshExpiresAt: refreshExpiresAt, now: now)
    }

    /// The app a login names, or the only one configured.
    private func loginApp(named appid: String?) throws(OAuthError) -> WeChatConfig.App {
        if let appid, !appid.isEmpty {
            guard let found = config.wechat.apps.first(where: { $0.appid == appid }) else { throw .unknownAppID }
            return found
        }
        guard config.wechat.apps.count == 1 else { throw .appIDRequired }
        return config.wechat.apps[0]
    }

    /// Spends the caller's `[rate_limit] phone_*` bucket first (the route says so): each call spends the app's
    /// daily quota of getuserphonenumber calls.
    func phone(
        _ request: ControlRequest, _ claims: VerifiedClaims, _ form: FormBody
    ) async throws(OAuthError) -> ControlResponse {
        guard claims.appKind == .miniprogram else {
            throw .endpointNotForAppKind(endpoint: "/auth/phone", kind: claims.appKind)
        }
        guard let code = form["code"], !code.isEmpty else { throw .missingParameter("code") }
        guard code.utf8.count <= 512 else { throw .codeTooLong }
        // A phone code belongs to the mini-program that issued it; resolving it with another app's
        // credentials would be refused by WeChat at best and answer for the wrong app at worst.
        guard let app = config.wechat.apps.first(where: { $0.appid == claims.appid }) else {
            throw .tokenAppIDNotConfigured
        }
        let phone: PhoneNumber
        do {
            phone = try await wechat.phoneNumber(app: WeChatApp(appID: app.appid, secret: app.secret), code: code)
        } catch {
            logWeChatRefusal(error, "phone number refused by WeChat", request)
            throw OAuthError(wechatFailure: error, code: .phoneNumber)
        }
        var body = JSONObjectWriter()
        body.member("phoneNumber", phone.phoneNumber)
        body.member("purePhoneNumber", phone.purePhoneNumber)
        body.member("countryCode", phone.countryCode)
        var answer = ControlResponse.json(.ok, body.text)
        answer.openid = claims.subject
        return answer
    }
}
