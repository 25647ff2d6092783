import Foundation
import JSON
import WeChat

/// Turns one request into the simulator's answer. No I/O: the simulator's NIO handler feeds it complete
/// requests and writes back what it returns, so every WeChat rule here is plain code.
struct SimulatorRouter: Sendable {
    let configuration: WeChatSimulatorConfiguration
    let state: SimulatorState

    func respond(to request: SimulatorRequest) -> SimulatorResponse {
        state.countRequest(path: request.path)
        switch (request.method, request.path) {
        case ("GET", "/sns/jscode2session"):
            return code2Session(request.query)
        case ("POST", "/cgi-bin/stable_token"):
            return stableToken(request.body)
        case ("POST", "/wxa/business/getuserphonenumber"):
            return phoneNumber(accessToken: request.query["access_token"], body: request.body)
        case ("GET", "/connect/oauth2/authorize"):
            return authorize(request.query, scopes: Self.officialAccountScopes)
        case ("GET", "/connect/qrconnect"):
            return authorize(request.query, scopes: Self.websiteScopes)
        case ("GET", "/sns/oauth2/access_token"):
            return webAccessToken(request.query)
        case ("GET", "/sns/oauth2/refresh_token"):
            return webRefreshToken(request.query)
        case ("GET", "/sns/userinfo"):
            return webUserInfo(request.query)
        case ("GET", "/__sim/session_key"):
            return simulatorSessionKey(openID: request.query["openid"])
        case ("GET", "/__sim/calls"):
            let path = request.query["path"] ?? ""
            return SimulatorResponse(
                body: .object(["path": .string(path), "count": .int(state.requestCount(path: path))]))
        case ("GET", "/__sim/web_tokens"):
            let tokens = state.web.tokens(openID: request.query["openid"] ?? "").map { JSONValue.string($0) }
            return SimulatorResponse(body: .object(["tokens": .array(tokens)]))
        case ("GET", "/__sim/expire_web_tokens"):
            let openID = request.query["openid"] ?? ""
            let expired = state.web.expireAccessTokens(openID: openID)
            return SimulatorResponse(body: .object(["openid": .string(openID), "expired": .int(expired)]))
        case (_, "/connect/oauth2/authorize"), (_, "/connect/qrconnect"):
            return .errorPage("method not allowed", status: 405)
        case (_, "/sns/jscode2session"), (_, "/cgi-bin/stable_token"), (_, "/wxa/business/getuserphonenumber"),
            (_, "/sns/oauth2/access_token"), (_, "/sns/oauth2/refresh_token"), (_, "/sns/userinfo"):
            return .error(43001, "require \(request.method == "GET" ? "POST" : "GET") method", status: 405)
        default:
            // WeChat answers unknown URLs with 40066; the 404 status lets humans spot typos quickly.
            return .error(40066, "invalid url", status: 404)
        }
    }

    /// Checks appid and secret the way every credential-taking API does.
    func checkCredentials(appID: String?, secret: String?) -> SimulatorResponse? {
        guard let appID, !appID.isEmpty else { return .error(41002, "appid missing") }
        guard let expected = configuration.apps[appID] else { return .error(40013, "invalid appid") }
        guard let secret, !secret.isEmpty else { return .error(41004, "appsecret missing") }
        guard secret == expected else { return .error(40125, "invalid appsecret") }
        return nil
    }

    /// Test and operations aid, not part of WeChat: the newest session_key handed out for openid.
    private func simulatorSessionKey(openID: String?) -> SimulatorResponse {
        guard let openID, let sessionKey = state.sessionKey(forOpenID: openID) else {
            return .error(40003, "simulator: no session_key for this openid", status: 404)
        }
        return SimulatorResponse(body: .object(["openid": .string(openID), "session_key": .string(sessionKey)]))
    }
}

extension SimulatorRouter {
    /// The special codes both code exchanges share (`SimulatorCodeRule`): the error to answer with, or how long to
    /// hold the answer.
    func codeRule(_ code: String) -> (delay: Duration?, refusal: SimulatorResponse?) {
        switch SimulatorCodeRule.classify(code, slowDelay: configuration.slowCodeDelay) {
        case .reject(let errcode, let errmsg): return (nil, .error(errcode, errmsg))
        case .accept(let delay): return (delay, nil)
        }
    }
}
