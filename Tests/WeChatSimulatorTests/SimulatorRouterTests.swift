import Foundation
import JSON
import XCTest

@testable import WeChat
@testable import WeChatSimulator

/// The simulator's WeChat rules, without sockets.
final class SimulatorRouterTests: XCTestCase {
    private let appID = "wx0000000000000001"
    private let secret = "dev-secret"
    private var router: SimulatorRouter!

    override func setUp() {
        router = SimulatorRouter(
            configuration: WeChatSimulatorConfiguration(apps: [appID: secret]), state: SimulatorState())
    }

    private func login(
        _ code: String, appid: String? = nil, secret: String? = nil, grant: String = "authorization_code"
    ) -> SimulatorResponse {
        let query = QueryString.encode([
            ("appid", appid ?? appID), ("secret", secret ?? self.secret), ("js_code", code), ("grant_type", grant),
        ])
        return router.respond(to: SimulatorRequest(method: "GET", uri: "/sns/jscode2session?" + query))
    }

    private func post(_ uri: String, _ json: JSONValue) -> SimulatorResponse {
        router.respond(to: SimulatorRequest(method: "POST", uri: uri, body: Data(json.serialized())))
    }

    func testLoginSuccessHasNoErrcodeAndA28CharacterOpenID() throws {
        let response = login("abc")
        XCTAssertEqual(response.status, 200)
        XCTAssertNil(response.body["errcode"])
        let openID = try XCTUnwrap(response.body["openid"]?.stringValue)
        XCTAssertEqual(openID.count, 28)
        XCTAssertEqual(Data(base64Encoded: response.body["session_key"]?.stringValue ?? "")?.count, 16)
        XCTAssertNil(response.body["unionid"])
    }

    func testOpenIDIsStablePerAppAndCode() {
        XCTAssertEqual(SimulatorIdentity.openID(appID: "a", code: "x"), SimulatorIdentity.openID(appID: "a", code: "x"))
        XCTAssertNotEqual(
            SimulatorIdentity.openID(appID: "a", code: "x"), SimulatorIdentity.openID(appID: "b", code: "x"))
    }

    func testOpenIDCodeNamesTheUserAndUnionSuffixAddsUnionID() throws {
        let response = login("openid:alice+union")
        XCTAssertEqual(response.body["openid"], .string("alice"))
        let unionID = try XCTUnwrap(SimulatorIdentity.unionID(code: "openid:alice+union"))
        XCTAssertEqual(response.body["unionid"], .string(unionID))
    }

    func testCodeIsSingleUse() {
        XCTAssertNil(login("once").body["errcode"])
        XCTAssertEqual(login("once").body["errcode"], .int(40163))
    }

    func testPrefixesSelectWeChatErrors() {
        XCTAssertEqual(login("invalid-1").body["errcode"], .int(40029))
        XCTAssertEqual(login("busy-1").body["errcode"], .int(-1))
        XCTAssertEqual(login("limit-1").body["errcode"], .int(45011))
        XCTAssertEqual(login("blocked-1").body["errcode"], .int(40226))
    }

    func testCredentialsAndGrantTypeAreChecked() {
        XCTAssertEqual(login("c1", appid: "wxUNKNOWN").body["errcode"], .int(40013))
        XCTAssertEqual(login("c2", secret: "wrong").body["errcode"], .int(40125))
        XCTAssertEqual(login("c3", grant: "password").body["errcode"], .int(40002))
        XCTAssertEqual(login("").body["errcode"], .int(41008))
    }

    func testSlowCodesAreHeld() {
        XCTAssertEqual(login("slow:250").delay, .milliseconds(250))
        XCTAssertEqual(login("slow-default").delay, .seconds(10))
        XCTAssertNil(login("fast").delay)
    }

    func testSessionKeyIsRememberedPerOpenID() {
        let response = login("openid:bob")
        XCTAssertEqual(router.state.sessionKey(forOpenID: "bob"), response.body["session_key"]?.stringValue)
        let aid = router.respond(to: SimulatorRequest(method: "GET", uri: "/__sim/session_key?openid=bob"))
        XCTAssertEqual(aid.body["session_key"], response.body["session_key"])
        let unknown = router.respond(to: SimulatorRequest(method: "GET", uri: "/__sim/session_key?openid=x"))
        XCTAssertEqual(unknown.status, 404)
    }

    func testStableTokenIsReusedUntilForced() throws {
        let request: [String: JSONValue] = [
            "grant_type": .string("client_credential"), "appid": .string(appID), "secret": .string(secret),
        ]
        let first = post("/cgi-bin/stable_token", .object(request))
        let token = try XCTUnwrap(first.body["access_token"]?.stringValue)
        XCTAssertEqual(first.body["expires_in"], .int(7200))
        XCTAssertEqual(post("/cgi-bin/stable_token", .object(request)).body["access_token"]?.stringValue, token)
        var forced = request
        forced["force_refresh"] = .bool(true)
        let renewed = try XCTUnwrap(post("/cgi-bin/stable_token", .object(forced)).body["access_token"]?.stringValue)
        XCTAssertNotEqual(renewed, token)
        XCTAssertEqual(router.state.checkToken(token), .unknown)
        XCTAssertEqual(router.state.checkToken(renewed), .valid(appID: appID))
    }

    func testStableTokenChecksCredentials() {
        var request: [String: JSONValue] = [
            "grant_type": .string("client_credential"), "appid": .string(appID), "secret": .string("nope"),
        ]
        XCTAssertEqual(post("/cgi-bin/stable_token", .object(request)).body["errcode"], .int(40125))
        request["appid"] = .string("wxUNKNOWN")
        XCTAssertEqual(post("/cgi-bin/stable_token", .object(request)).body["errcode"], .int(40013))
        let garbage = router.respond(
            to: SimulatorRequest(method: "POST", uri: "/cgi-bin/stable_token", body: Data("{".utf8)))
        XCTAssertEqual(garbage.body["errcode"], .int(47001))
    }

    func testPhoneNumberNeedsAValidTokenAndSpendsTheCode() throws {
        XCTAssertEqual(
            post("/wxa/business/getuserphonenumber?access_token=nope", .object(["code": .string("p")])).body["errcode"],
            .int(40001))
        let (token, _) = router.state.stableToken(appID: appID, forceRefresh: false, lifetime: .seconds(60))
        let uri = "/wxa/business/getuserphonenumber?access_token=" + QueryString.escape(token)
        let answer = post(uri, .object(["code": .string("phone:13912345678")]))
        XCTAssertEqual(answer.body["errcode"], .int(0))
        XCTAssertEqual(answer.body["phone_info"]?["purePhoneNumber"], .string("13912345678"))
        XCTAssertEqual(answer.body["phone_info"]?["phoneNumber"], .string("+8613912345678"))
        XCTAssertEqual(answer.body["phone_info"]?["watermark"]?["appid"], .string(appID))
        XCTAssertEqual(post(uri, .object(["code": .string("phone:13912345678")])).body["errcode"], .int(40029))
        XCTAssertEqual(post(uri, .object(["code": .string("limit-p")])).body["errcode"], .int(45011))
    }

    func testExpiredTokenIsAnswered42001() {
        let past = ContinuousClock.now.advanced(by: .seconds(-120))
        let (token, _) = router.state.stableToken(appID: appID, forceRefresh: false, lifetime: .seconds(60), now: past)
        XCTAssertEqual(router.state.checkToken(token), .expired)
    }

    func testUnknownPathIs404JSONAndWrongMethodIs405() {
        let unknown = router.respond(to: SimulatorRequest(method: "GET", uri: "/sns/jsCode2Session?x=1"))
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.body["errcode"], .int(40066))
        XCTAssertEqual(router.respond(to: SimulatorRequest(method: "GET", uri: "/cgi-bin/stable_token")).status, 405)
    }

    func testQueryIsFormDecoded() {
        let request = SimulatorRequest(method: "GET", uri: "/p?a=x%2By&b=x+y&c&a=second")
        XCTAssertEqual(request.query["a"], "x+y")
        XCTAssertEqual(request.query["b"], "x y")
        XCTAssertEqual(request.query["c"], "")
        XCTAssertEqual(SimulatorRequest(method: "GET", uri: "/p?state=s#wechat_redirect").query["state"], "s")
    }
}
