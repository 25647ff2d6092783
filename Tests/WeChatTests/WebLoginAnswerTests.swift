import JSON
import XCTest

@testable import WeChat

/// The web login's answers (`/sns/oauth2/access_token`, `/sns/userinfo`) and how their credentials are stored.
final class WebLoginAnswerTests: XCTestCase {
    private func json(_ text: String) -> JSONValue {
        JSONValue.parse(Array(text.utf8))!
    }

    func testAFullAnswerIsRead() throws {
        let result = try WebAccessTokenResult(
            answer: json(
                #"{"access_token":"AT","expires_in":7200,"refresh_token":"RT","openid":"o1","scope":"snsapi_userinfo","#
                    + #""unionid":"u1","extra":true}"#))
        XCTAssertEqual(
            result,
            WebAccessTokenResult(
                openID: "o1", unionID: "u1", accessToken: "AT", refreshToken: "RT", scope: "snsapi_userinfo",
                isSnapshotUser: false))
        XCTAssertTrue(result.grants("snsapi_userinfo"))
        XCTAssertFalse(result.grants("snsapi_login"))
    }

    func testSnapshotUserIsReadAsNumberOrText() throws {
        for flag in ["1", "\"1\""] {
            let answer = json(#"{"access_token":"A","refresh_token":"R","openid":"o","is_snapshotuser":"# + flag + "}")
            XCTAssertTrue(try WebAccessTokenResult(answer: answer).isSnapshotUser, flag)
        }
        let plain = json(#"{"access_token":"A","refresh_token":"R","openid":"o","is_snapshotuser":0}"#)
        XCTAssertFalse(try WebAccessTokenResult(answer: plain).isSnapshotUser)
    }

    func testMissingFieldsAndUnusableIDsAreRefused() {
        for text in [#"{"openid":"o","refresh_token":"R"}"#, #"{"access_token":"A","openid":"o"}"#, #"{}"#] {
            XCTAssertThrowsError(try WebAccessTokenResult(answer: json(text))) { error in
                guard case .unavailable = error as? WeChatError else { return XCTFail("\(error)") }
            }
        }
        let broken = json(#"{"access_token":"A","refresh_token":"R","openid":"o\r\nX-Evil: 1"}"#)
        XCTAssertThrowsError(try WebAccessTokenResult(answer: broken)) { error in
            guard case .malformedAnswer = error as? WeChatError else { return XCTFail("\(error)") }
        }
    }

    func testDescriptionsNeverShowTheTokens() throws {
        let result = try WebAccessTokenResult(
            answer: json(#"{"access_token":"SECRET-AT","refresh_token":"SECRET-RT","openid":"o"}"#))
        let credentials = WebCredentials(result)
        for text in [
            "\(result)", String(reflecting: result), "\(credentials)", String(reflecting: credentials),
            "\(Mirror(reflecting: result).children.map { $0.value })",
        ] {
            XCTAssertFalse(text.contains("SECRET"), text)
        }
    }

    func testStoredCredentialsRoundTripAndASessionKeyIsNotOne() {
        let credentials = WebCredentials(accessToken: "A\"b", refreshToken: "R", scope: "snsapi_base,snsapi_userinfo")
        XCTAssertEqual(WebCredentials(storedText: credentials.storedText), credentials)
        XCTAssertTrue(credentials.allowsProfile)
        XCTAssertFalse(WebCredentials(accessToken: "A", refreshToken: "R", scope: "snsapi_base").allowsProfile)
        XCTAssertTrue(WebCredentials(accessToken: "A", refreshToken: "R", scope: "snsapi_login").allowsProfile)
        XCTAssertNil(WebCredentials(storedText: "tiihtNczf5v6AKRyjwEUhQ=="))
        XCTAssertNil(WebCredentials(storedText: #"{"access_token":"A","refresh_token":"R"}"#))
    }

    func testProfileIsReadForItsOwnUserOnly() throws {
        let answer = json(
            #"{"openid":"o1","nickname":"Ann","headimgurl":"https://thirdwx.qlogo.cn/x/132","privilege":[]}"#)
        let profile = try WebUserProfile(answer: answer, expectedOpenID: "o1")
        XCTAssertEqual(profile.nickname, "Ann")
        XCTAssertEqual(profile.headImageURL, "https://thirdwx.qlogo.cn/x/132")
        XCTAssertNil(profile.unionID)
        XCTAssertThrowsError(try WebUserProfile(answer: answer, expectedOpenID: "o2"))
        XCTAssertThrowsError(try WebUserProfile(answer: json("{}"), expectedOpenID: "o1"))
    }

    func testWebErrcodesMapLikeJscode2Session() {
        XCTAssertEqual(WeChatError.fromAPI(errcode: 40029, errmsg: ""), .invalidCode)
        XCTAssertEqual(WeChatError.fromAPI(errcode: 40163, errmsg: ""), .codeUsed)
        XCTAssertEqual(WeChatError.fromAPI(errcode: 45011, errmsg: ""), .rateLimited)
        XCTAssertTrue(WeChatError.staleAccessTokenErrcodes.isSuperset(of: [40001, 42001]))
    }
}
