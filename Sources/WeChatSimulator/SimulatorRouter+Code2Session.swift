import JSON
import WeChat

extension SimulatorRouter {
    /// `GET /sns/jscode2session` ("小程序登录 / code2Session"): success carries no errcode, like WeChat.
    func code2Session(_ query: [String: String]) -> SimulatorResponse {
        if let failure = checkCredentials(appID: query["appid"], secret: query["secret"]) { return failure }
        guard query["grant_type"] == "authorization_code" else { return .error(40002, "invalid grant_type") }
        guard let appID = query["appid"], let code = query["js_code"], !code.isEmpty else {
            return .error(41008, "missing code")
        }
        let (delay, refusal) = codeRule(code)
        if let refusal { return refusal }
        guard state.spendLoginCode(appID: appID, code: code) else { return .error(40163, "code been used") }

        let openID = SimulatorIdentity.openID(appID: appID, code: code)
        let sessionKey = SimulatorRandom.sessionKey()
        state.recordSessionKey(sessionKey, openID: openID)
        var body: [String: JSONValue] = ["openid": .string(openID), "session_key": .string(sessionKey)]
        if let unionID = SimulatorIdentity.unionID(code: code) { body["unionid"] = .string(unionID) }
        return SimulatorResponse(body: .object(body), delay: delay)
    }
}
