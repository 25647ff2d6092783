import Foundation
import JSON
import WeChat

extension SimulatorRouter {
    /// `POST /cgi-bin/stable_token` ("获取稳定版接口调用凭据"): the same token while valid.
    func stableToken(_ body: Data) -> SimulatorResponse {
        guard let json = JSONValue.parse(body), json.objectValue != nil else {
            return .error(47001, "data format error")
        }
        guard json["grant_type"]?.stringValue == "client_credential" else {
            return .error(40002, "invalid grant_type")
        }
        let appID = json["appid"]?.stringValue
        if let failure = checkCredentials(appID: appID, secret: json["secret"]?.stringValue) { return failure }
        let forceRefresh = json["force_refresh"]?.boolValue ?? false
        let (token, expiresIn) = state.stableToken(
            appID: appID ?? "", forceRefresh: forceRefresh, lifetime: configuration.accessTokenLifetime)
        return SimulatorResponse(
            body: .object([
                "access_token": .string(token),
                "expires_in": .int(max(Int(expiresIn.components.seconds), 1)),
            ]))
    }
}
