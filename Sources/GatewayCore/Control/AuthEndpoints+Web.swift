import Foundation
import JSON
import SessionStore
import Tokens
import WeChat

/// The web kinds (`kind = "officialaccount"` or `"website"`): login with a code from WeChat's authorization page
/// (`/sns/oauth2/access_token`), and `GET /auth/profile` from `/sns/userinfo`. The user's web access and refresh
/// tokens are WeChat's credentials for that user: stored like a session_key (`WebCredentials`), never answered,
/// never logged.
extension AuthEndpoints {
    func webLogin(
        _ request: ControlRequest, app: WeChatConfig.App, code: String
    ) async throws(OAuthError) -> ControlResponse {
        let result: WebAccessTokenResult
        do {
            // Sent once, like a wx.login code: an authorization code is single use too.
            result = try await wechat.webAccessToken(app: WeChatApp(appID: app.appid, secret: app.secret), code: code)
        } catch {
            logWeChatRefusal(error, "web login refused by WeChat", request)
            throw OAuthError(wechatFailure: error, code: .webLogin)
        }
        // A snapshot page's virtual account ("快照页模式"): its openid is not the person's, so nothing may be
        // granted to it.
        if result.isSnapshotUser {
            logger.notice(
                "web login refused: snapshot-mode virtual user",
                metadata: ["request_id": "\(request.requestID)", "appid": "\(app.appid)"])
            throw .snapshotUser
        }
        return try await startSession(
            openid: result.openID, unionid: result.unionID, appid: app.appid,
            sessionKey: WebCredentials(result).storedText)
    }

    /// `GET /auth/profile`: nickname and avatar of a web user who granted `snsapi_userinfo` (or logged in to a
    /// website with `snsapi_login`).
    func profile(_ request: ControlRequest, _ claims: VerifiedClaims) async throws(OAuthError) -> ControlResponse {
        guard claims.appKind.isWeb else {
            throw .endpointNotForAppKind(endpoint: "/auth/profile", kind: claims.appKind)
        }
        guard let appid = claims.appid else { throw .tokenNamesNoAppID }
        guard let app = config.wechat.apps.first(where: { $0.appid == appid }) else {
            throw .tokenAppIDNotConfigured
        }
        let stored = try await fromStore { () async throws(SessionStoreError) in
            try await store.sessionKey(appid: appid, openid: claims.subject)
        }
        guard let stored, let credentials = WebCredentials(storedText: stored) else { throw .noWeChatSession }
        guard credentials.allowsProfile else {
            throw .insufficientScope(
                "the user granted \(credentials.scope.isEmpty ? "no scope" : credentials.scope) only; the profile "
                    + "needs snsapi_userinfo (official account) or snsapi_login (website): log in again with it")
        }
        let profile: WebUserProfile
        do {
            let answer = try await wechat.webUserProfile(
                app: WeChatApp(appID: app.appid, secret: app.secret), credentials: credentials,
                openID: claims.subject)
            profile = answer.profile
            if let renewed = answer.renewed { await keep(renewed, replacing: stored, appid: appid, request, claims) }
        } catch {
            logWeChatRefusal(error, "profile refused by WeChat", request)
            switch error {
            // 40030 invalid / 42002 expired refresh token: only a new authorization helps.
            case .api(errcode: 40030, _), .api(errcode: 42002, _): throw .webAuthorizationExpired
            case .api(errcode: 48001, _): throw .insufficientScope("WeChat says the user did not grant the profile")
            default: throw OAuthError(wechatFailure: error, code: .webLogin)
            }
        }
        var body = JSONObjectWriter()
        body.member("openid", profile.openID)
        body.member("nickname", profile.nickname)
        body.member("headimgurl", profile.headImageURL)
        body.member("unionid", ifPresent: profile.unionID)
        var answer = ControlResponse.json(.ok, body.text)
        answer.openid = claims.subject
        return answer
    }

    /// A renewed web access token is written back (WeChat's lasts 2 h, its refresh token 30 days), so the next
    /// profile call does not renew again; a newer login's credentials win. A store failure costs only a renewal
    /// later, so it is logged, not answered.
    private func keep(
        _ renewed: WebCredentials, replacing stored: String, appid: String, _ request: ControlRequest,
        _ claims: VerifiedClaims
    ) async {
        do {
            _ = try await store.replaceSessionKey(
                appid: appid, openid: claims.subject, current: stored, replacement: renewed.storedText, now: Date())
        } catch {
            logger.warning(
                "could not store a renewed web access token",
                metadata: ["request_id": "\(request.requestID)", "error": "\(error)"])
        }
    }
}
