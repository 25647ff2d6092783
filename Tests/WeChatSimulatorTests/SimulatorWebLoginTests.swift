import Foundation
import JSON
import XCTest

@testable import WeChat
@testable import WeChatSimulator

/// The simulator's web login ("网页授权"): authorize pages, the code exchange, refresh and userinfo.
final class SimulatorWebLoginTests: XCTestCase {
    private let appID = "wx00000000000000a1"
    private let secret = "web-secret"
    private var router: SimulatorRouter!

    override func setUp() {
        router = SimulatorRouter(
            configuration: WeChatSimulatorConfiguration(apps: [appID: secret]), state: SimulatorState())
    }

    private func get(_ path: String, _ pairs: [(String, String)]) -> SimulatorResponse {
        router.respond(to: SimulatorRequest(method: "GET", uri: path + "?" + QueryString.encode(pairs)))
    }

    private func authorize(
        scope: String = "snsapi_userinfo", user: String? = nil, path: String = "/connect/oauth2/authorize",
        redirect: String = "http://127.0.0.1:8080/cb", appid: String? = nil
    ) -> SimulatorResponse {
        var pairs = [
            ("appid", appid ?? appID), ("redirect_uri", redirect), ("response_type", "code"), ("scope", scope),
            ("state", "xyz-123"),
        ]
        if let user { pairs.append(("sim_user", user)) }
        return get(path, pairs)
    }

    private func code(from response: SimulatorResponse) throws -> String {
        XCTAssertEqual(response.status, 302)
        let location = try XCTUnwrap(response.location)
        let components = try XCTUnwrap(URLComponents(string: location))
        XCTAssertEqual(components.queryItems?.first { $0.name == "state" }?.value, "xyz-123")
        return try XCTUnwrap(components.queryItems?.first { $0.name == "code" }?.value)
    }

    private func exchange(
        _ code: String, secret: String? = nil, grant: String = "authorization_code"
    )
        -> SimulatorResponse
    {
        get(
            "/sns/oauth2/access_token",
            [("appid", appID), ("secret", secret ?? self.secret), ("code", code), ("grant_type", grant)])
    }

    func testAuthorizeRedirectsWithACodeAndTheStateUnchanged() throws {
        let response = authorize()
        XCTAssertTrue(response.location?.hasPrefix("http://127.0.0.1:8080/cb?code=") == true)
        XCTAssertFalse(try code(from: response).isEmpty)
        XCTAssertEqual(try code(from: authorize(scope: "snsapi_login", path: "/connect/qrconnect")).isEmpty, false)
    }

    func testAuthorizeRefusesBadRequestsWithAPageNotARedirect() {
        let cases = [
            authorize(appid: "wxUNKNOWN"), authorize(redirect: "https://evil.test/cb"), authorize(redirect: ""),
            authorize(scope: "snsapi_login"), authorize(scope: "snsapi_base", path: "/connect/qrconnect"),
            get("/connect/oauth2/authorize", [("appid", appID), ("redirect_uri", "http://127.0.0.1/")]),
        ]
        for response in cases {
            XCTAssertEqual(response.status, 400)
            XCTAssertNil(response.location)
            XCTAssertNotNil(response.page)
        }
        let hostile = authorize(appid: "<script>")
        XCTAssertFalse(hostile.page?.contains("<script>") ?? true)
    }

    func testExchangeAnswersLikeWeChatAndTheCodeIsSingleUse() throws {
        let code = try code(from: authorize(scope: "snsapi_base", user: "openid:alice+union"))
        let answer = exchange(code)
        XCTAssertNil(answer.body["errcode"])
        XCTAssertEqual(answer.body["openid"], .string("alice"))
        XCTAssertEqual(answer.body["scope"], .string("snsapi_base"))
        XCTAssertEqual(answer.body["expires_in"], .int(7200))
        XCTAssertNotNil(answer.body["access_token"]?.stringValue)
        XCTAssertNotNil(answer.body["refresh_token"]?.stringValue)
        XCTAssertEqual(answer.body["unionid"]?.stringValue, SimulatorIdentity.unionID(code: "openid:alice+union"))
        XCTAssertNil(answer.body["is_snapshotuser"])
        XCTAssertEqual(exchange(code).body["errcode"], .int(40163))
    }

    func testExchangeErrors() throws {
        XCTAssertEqual(exchange("invalid-1").body["errcode"], .int(40029))
        XCTAssertEqual(exchange("limit-1").body["errcode"], .int(45011))
        XCTAssertEqual(exchange("busy-1").body["errcode"], .int(-1))
        XCTAssertEqual(exchange("c1", secret: "wrong").body["errcode"], .int(40125))
        XCTAssertEqual(exchange("c2", grant: "client_credential").body["errcode"], .int(40002))
        XCTAssertEqual(exchange("").body["errcode"], .int(41008))
        let other = "wx00000000000000b2"
        router = SimulatorRouter(
            configuration: WeChatSimulatorConfiguration(apps: [appID: secret, other: "s2"]), state: SimulatorState())
        let code = try code(from: authorize(appid: other))
        XCTAssertEqual(exchange(code).body["errcode"], .int(40029))
    }

    func testDirectCodesAreReadByTheirText() {
        let answer = exchange("openid:bob")
        XCTAssertEqual(answer.body["openid"], .string("bob"))
        XCTAssertEqual(answer.body["scope"], .string("snsapi_userinfo"))
        XCTAssertEqual(exchange("openid:bob").body["errcode"], .int(40163))
    }

    func testSnapshotUsersAreMarkedAndGetNoUnionID() throws {
        let direct = exchange("snapshot-1+union")
        XCTAssertEqual(direct.body["is_snapshotuser"], .int(1))
        XCTAssertNil(direct.body["unionid"])
        let viaPage = exchange(try code(from: authorize(user: "snapshot")))
        XCTAssertEqual(viaPage.body["is_snapshotuser"], .int(1))
    }

    func testUserInfoNeedsTheUserinfoScopeAndItsOwnOpenID() throws {
        let userinfo = exchange(try code(from: authorize(user: "openid:carol")))
        let token = try XCTUnwrap(userinfo.body["access_token"]?.stringValue)
        let profile = get("/sns/userinfo", [("access_token", token), ("openid", "carol"), ("lang", "zh_CN")])
        XCTAssertEqual(profile.body["nickname"], .string("carol"))
        XCTAssertTrue(profile.body["headimgurl"]?.stringValue?.hasPrefix("https://") == true)
        XCTAssertEqual(get("/sns/userinfo", [("access_token", token), ("openid", "x")]).body["errcode"], .int(40003))
        XCTAssertEqual(get("/sns/userinfo", [("access_token", "nope"), ("openid", "x")]).body["errcode"], .int(40001))

        let base = exchange(try code(from: authorize(scope: "snsapi_base", user: "openid:dave")))
        let baseToken = try XCTUnwrap(base.body["access_token"]?.stringValue)
        XCTAssertEqual(
            get("/sns/userinfo", [("access_token", baseToken), ("openid", "dave")]).body["errcode"], .int(48001))
    }

    func testExpiredTokenIs42001AndRefreshGivesANewOne() throws {
        let answer = exchange("openid:erin")
        let token = try XCTUnwrap(answer.body["access_token"]?.stringValue)
        let refresh = try XCTUnwrap(answer.body["refresh_token"]?.stringValue)
        let expired = router.respond(to: SimulatorRequest(method: "GET", uri: "/__sim/expire_web_tokens?openid=erin"))
        XCTAssertEqual(expired.body["expired"], .int(1))
        XCTAssertEqual(
            get("/sns/userinfo", [("access_token", token), ("openid", "erin")]).body["errcode"], .int(42001))

        let renewed = get(
            "/sns/oauth2/refresh_token",
            [("appid", appID), ("grant_type", "refresh_token"), ("refresh_token", refresh)])
        XCTAssertEqual(renewed.body["refresh_token"], .string(refresh))
        let fresh = try XCTUnwrap(renewed.body["access_token"]?.stringValue)
        XCTAssertNotEqual(fresh, token)
        XCTAssertEqual(
            get("/sns/userinfo", [("access_token", fresh), ("openid", "erin")]).body["nickname"], .string("erin"))
        let bad = get(
            "/sns/oauth2/refresh_token", [("appid", appID), ("grant_type", "refresh_token"), ("refresh_token", "x")])
        XCTAssertEqual(bad.body["errcode"], .int(40030))
    }

    func testCallsAreCountedPerPath() {
        _ = exchange("openid:frank")
        let calls = router.respond(
            to: SimulatorRequest(method: "GET", uri: "/__sim/calls?path=/sns/oauth2/access_token"))
        XCTAssertEqual(calls.body["count"], .int(1))
    }
}
