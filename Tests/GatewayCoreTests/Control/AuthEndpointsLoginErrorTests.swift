import WeChat
import XCTest

@testable import GatewayCore

/// The login errors of README.md, "HTTP endpoints of the gateway": every WeChat failure maps to one status and
/// OAuth error code.
final class AuthEndpointsLoginErrorTests: XCTestCase {
    private func header(_ response: ControlResponse, _ name: String) -> String? {
        response.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The answer to a login whose code WeChat refused with `error`.
    private func loginAnswer(_ error: WeChatError) -> ControlResponse {
        OAuthError(wechatFailure: error, code: .login).response(requestID: "test", realm: "test")
    }

    private func errorCode(_ response: ControlResponse) throws -> String? {
        let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
        XCTAssertNotNil(object?["error_description"] as? String)
        return object?["error"] as? String
    }

    func testEveryWeChatFailureMapsToItsAnswer() throws {
        let table: [(WeChatError, UInt, String)] = [
            (.invalidCode, 400, "invalid_grant"),  // 40029
            (.codeUsed, 400, "invalid_grant"),  // 40163
            (.rateLimited, 429, "slow_down"),  // 45011
            (.riskyUser, 403, "access_denied"),  // 40226
            (.systemBusy, 503, "temporarily_unavailable"),  // -1
            (.unavailable(reason: "timed out"), 503, "temporarily_unavailable"),
            (.unavailable(reason: "could not connect"), 503, "temporarily_unavailable"),
            (.invalidAppID, 503, "temporarily_unavailable"),
            (.invalidSecret, 503, "temporarily_unavailable"),
            (.api(errcode: 40002, errmsg: "invalid grant_type"), 502, "temporarily_unavailable"),
        ]
        for (error, status, code) in table {
            let answer = loginAnswer(error)
            XCTAssertEqual(answer.status.code, status, "\(error)")
            XCTAssertEqual(try errorCode(answer), code, "\(error)")
            XCTAssertEqual(header(answer, "Cache-Control"), "no-store", "\(error)")
            XCTAssertEqual(header(answer, "Content-Type"), "application/json; charset=utf-8", "\(error)")
        }
    }

    func testRateLimitAndUnavailabilityTellTheClientWhenToRetry() {
        for (error, seconds) in [
            (WeChatError.rateLimited, 60), (.systemBusy, 5), (.unavailable(reason: "timed out"), 5),
        ] {
            let retryAfter = header(loginAnswer(error), "Retry-After").flatMap(Int.init)
            XCTAssertEqual(retryAfter, seconds, "\(error)")
        }
    }

    func testAnswersDoNotRepeatWeChatsMessage() {
        // WeChat's errmsg is not secret but it is not the client's business either (and may change).
        let answer = loginAnswer(.api(errcode: 40002, errmsg: "invalid grant_type rid: 1234"))
        XCTAssertFalse(answer.body.contains("rid: 1234"))
    }

    func testOAuthErrorEscapesItsDescription() throws {
        let answer = OAuthError.malformedUserData("a \"quoted\"\nline").response(requestID: "test", realm: "test")
        let object = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: String]
        XCTAssertEqual(object?["error_description"], "a \"quoted\"\nline")
    }
}
