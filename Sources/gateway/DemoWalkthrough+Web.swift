import CurlHTTP
import Foundation
import GatewayCore
import Tokens

/// The demo's web login: an official account's H5 page (or a website) sends the browser to WeChat's authorization
/// page, the simulator redirects back at once with a code, the page logs in with it, and reads the user's profile.
extension DemoWalkthrough {
    /// The web app the demo adds when the config has none, with an appid no configured app uses.
    static func demoOfficialAccount(besides apps: [WeChatConfig.App]) -> WeChatConfig.App {
        var number = 2
        while apps.contains(where: { $0.appid == String(format: "wx%016d", number) }) { number += 1 }
        return WeChatConfig.App(
            appid: String(format: "wx%016d", number), secret: "demo-oa-secret", kind: .officialaccount)
    }

    func runWebLogin(_ curl: CurlClient, base: String, apiPath: String) async {
        guard let app = config.wechat.apps.first(where: { $0.kind.isWeb }) else { return }
        let website = app.kind == .website
        let page = website ? "/connect/qrconnect" : "/connect/oauth2/authorize"
        let state = "demo\(UInt32.random(in: 0...UInt32.max))"
        var query = URLComponents()
        query.queryItems = [
            URLQueryItem(name: "appid", value: app.appid),
            URLQueryItem(name: "redirect_uri", value: "http://127.0.0.1:8080/h5/callback"),
            URLQueryItem(name: "response_type", value: "code"),
            URLQueryItem(name: "scope", value: website ? "snsapi_login" : "snsapi_userinfo"),
            URLQueryItem(name: "state", value: state),
        ]
        let authorize =
            config.wechat.apiBase + page + "?"
            + (query.percentEncodedQuery ?? "").replacingOccurrences(of: "/", with: "%2F")
            .replacingOccurrences(of: ":", with: "%3A")
        show(
            """

            5. Web login (app \(app.appid), kind = \(app.kind.rawValue)): the H5 page sends the browser to WeChat's \
            authorization page; the simulator answers at once with the redirect WeChat sends after consent:
            """)
        show("   curl -si '\(authorize)#wechat_redirect'")
        guard let location = await redirect(curl, authorize),
            let code = URLComponents(string: location)?.queryItems?.first(where: { $0.name == "code" })?.value
        else {
            show("   no redirect from the simulator; is something else listening on its port?")
            return
        }
        show("   → 302 Location: \(location)")
        let body = "{\"code\":\"\(code)\",\"appid\":\"\(app.appid)\"}"
        show("\n6. The page's callback logs in with that code (the gateway calls /sns/oauth2/access_token):")
        show("   curl -s -X POST \(base)/auth/login -H 'Content-Type: application/json' -d '\(body)'")
        let login = await call(curl, "POST", base + "/auth/login", body: body)
        show(indent(login.body))
        guard let access = field("access_token", in: login.body) else {
            show("   web login failed (status \(login.status))")
            return
        }
        show(
            """

            7. The same tokens as a mini-program's; the upstream sees X-App-Kind: \(app.kind.rawValue) and \
            X-AppId: \(app.appid):
               curl -s \(base)\(apiPath) -H 'Authorization: Bearer \(access)'
            """)
        let api = await call(curl, "GET", base + apiPath, bearer: access)
        show(indent(api.body))
        show("\n8. The user's nickname and avatar, from WeChat's /sns/userinfo (WeChat's web token stays inside):")
        show("   curl -s \(base)/auth/profile -H 'Authorization: Bearer \(access)'")
        let profile = await call(curl, "GET", base + "/auth/profile", bearer: access)
        show(indent(profile.body))
    }

    /// The `Location` of a redirect, which libcurl does not follow here.
    private func redirect(_ curl: CurlClient, _ url: String) async -> String? {
        let request = CurlRequest(method: "GET", url: url, headers: [], timeoutMilliseconds: 10_000)
        guard let response = try? await curl.execute(request, maxBodyBytes: 1 << 16), response.head.status == 302
        else { return nil }
        return response.head.values(of: "Location").first
    }
}
