import Foundation
import SessionStore
import Tokens
import WeChat

/// `/auth/userinfo`: user data the mini-program got encrypted from WeChat, decrypted with the session_key the
/// store keeps for the caller (which never leaves the gateway).
extension AuthEndpoints {
    func userInfo(
        _ request: ControlRequest, _ claims: VerifiedClaims, _ form: FormBody
    ) async throws(OAuthError) -> ControlResponse {
        // Web kinds have no session_key: their user data comes from GET /auth/profile.
        guard claims.appKind == .miniprogram else {
            throw .endpointNotForAppKind(endpoint: "/auth/userinfo", kind: claims.appKind)
        }
        guard let encryptedData = form["encryptedData"], let iv = form["iv"] else {
            throw .missingEncryptedData
        }
        guard let appid = claims.appid else { throw .tokenNamesNoAppID }
        let sessionKey = try await fromStore { () async throws(SessionStoreError) in
            try await store.sessionKey(appid: appid, openid: claims.subject)
        }
        guard let sessionKey else { throw .noWeChatSession }
        do {
            let data = try EncryptedDataDecryptor(appID: appid).decrypt(
                encryptedData: encryptedData, iv: iv, sessionKey: sessionKey, rawData: form["rawData"],
                signature: form["signature"])
            var answer = ControlResponse.json(.ok, data.text)
            answer.openid = claims.subject
            return answer
        } catch {
            // WeChatError descriptions name the cause (stale session_key, '+' turned into a space...), never data.
            logger.notice(
                "user data refused",
                metadata: ["request_id": "\(request.requestID)", "reason": "\(error.description)"])
            throw OAuthError(userDataFailure: error)
        }
    }
}
