import Foundation
import SessionStore
import WeChat
import XCTest

@testable import GatewayCore

/// The control plane's error table: every refusal's status, code, description and headers, and the answer they
/// make. Pure: no endpoint, no store.
final class OAuthErrorTests: XCTestCase {
    private static let storeDown = SessionStoreError.unavailable(operation: "rotate", reason: "timed out")

    /// Every case with the status and code the README's "HTTP endpoints" promise. `covered` below fails to compile
    /// when a case is added without a row here.
    private static let table: [(OAuthError, UInt, String)] = [
        (.malformedBody(.notJSONObject), 400, "invalid_request"),
        (.missingParameter("code"), 400, "invalid_request"),
        (.missingEncryptedData, 400, "invalid_request"),
        (.codeTooLong, 400, "invalid_request"),
        (.unknownAppID, 400, "invalid_request"),
        (.appIDRequired, 400, "invalid_request"),
        (.tokenNamesNoAppID, 400, "invalid_request"),
        (.tokenAppIDNotConfigured, 400, "invalid_request"),
        (.malformedUserData("iv decodes to 5 bytes"), 400, "invalid_request"),
        (.userDataNotVerifiable, 400, "invalid_request"),
        (.methodNotAllowed(allowed: [.POST]), 405, "invalid_request"),
        (.noSuchEndpoint, 404, "not_found"),
        (.unsupportedGrantType, 400, "unsupported_grant_type"),
        (.codeRefused(.login), 400, "invalid_grant"),
        (.refreshTokenReused, 400, "invalid_grant"),
        (.refreshTokenExpired, 400, "invalid_grant"),
        (.sessionEnded, 400, "invalid_grant"),
        (.refreshTokenNotValid, 400, "invalid_grant"),
        (.noWeChatSession, 400, "invalid_grant"),
        (.unauthenticated(.missingToken), 401, "unauthorized"),
        (.unauthenticated(.malformedAuthorization), 400, "invalid_request"),
        (.unauthenticated(.invalidToken(.expired)), 401, "invalid_token"),
        (.tooManyRequests(retryAfter: 7), 429, "slow_down"),
        (.wechatRateLimited, 429, "slow_down"),
        (.wechatRefusedUser, 403, "access_denied"),
        (.wechatUnavailable(.phoneNumber), 503, "temporarily_unavailable"),
        (.wechatMisconfigured, 503, "temporarily_unavailable"),
        (.wechatAnsweredUnexpectedly, 502, "temporarily_unavailable"),
        (.storeUnavailable(storeDown), 503, "temporarily_unavailable"),
        (.tokenNotIssued, 500, "server_error"),
        (.endpointNotForAppKind(endpoint: "/auth/phone", kind: .website), 400, "unauthorized_client"),
        (.snapshotUser, 403, "access_denied"),
        (.insufficientScope("snsapi_base only"), 403, "insufficient_scope"),
        (.webAuthorizationExpired, 400, "invalid_grant"),
        (.codeRefused(.webLogin), 400, "invalid_grant"),
    ]

    private func covered(_ error: OAuthError) {
        switch error {
        case .malformedBody, .missingParameter, .missingEncryptedData, .codeTooLong, .unknownAppID, .appIDRequired,
            .tokenNamesNoAppID, .tokenAppIDNotConfigured, .malformedUserData, .userDataNotVerifiable,
            .methodNotAllowed, .noSuchEndpoint, .unsupportedGrantType, .codeRefused, .refreshTokenReused,
            .refreshTokenExpired, .sessionEnded, .refreshTokenNotValid, .noWeChatSession, .unauthenticated,
            .tooManyRequests, .wechatRateLimited, .wechatRefusedUser, .wechatUnavailable, .wechatMisconfigured,
            .wechatAnsweredUnexpectedly, .storeUnavailable, .tokenNotIssued, .endpointNotForAppKind, .snapshotUser,
            .insufficientScope, .webAuthorizationExpired:
            break
        }
    }

    private func header(_ response: ControlResponse, _ name: String) -> String? {
        response.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    private func json(_ response: ControlResponse) throws -> [String: String] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: String])
    }

    func testEveryCaseHasItsStatusAndCode() {
        for (error, status, code) in Self.table {
            covered(error)
            XCTAssertEqual(error.status.code, status, "\(error)")
            XCTAssertEqual(error.code, code, "\(error)")
            XCTAssertFalse(error.description.isEmpty, "\(error)")
        }
    }

    func testEveryAnswerIsMarkedJSONThatIsNotStored() throws {
        for (error, _, code) in Self.table {
            let answer = error.response(requestID: "req-1", realm: "gw")
            XCTAssertEqual(answer.status, error.status, "\(error)")
            XCTAssertEqual(header(answer, "Content-Type"), "application/json; charset=utf-8", "\(error)")
            XCTAssertEqual(header(answer, "Cache-Control"), "no-store", "\(error)")
            XCTAssertEqual(answer.headers.filter { $0.0 == GatewayError.markField }.map(\.1), [code], "\(error)")
            let body = try json(answer)
            XCTAssertEqual(body["error"], code, "\(error)")
            XCTAssertEqual(body["error_description"], error.description, "\(error)")
        }
    }

    func testRetryAfterTellsTheClientWhenToComeBack() {
        let expected: [(OAuthError, String?)] = [
            (.tooManyRequests(retryAfter: 7), "7"), (.wechatRateLimited, "60"), (.wechatUnavailable(.login), "5"),
            (.storeUnavailable(Self.storeDown), "2"),
            // The operator's to fix: retrying soon helps nobody.
            (.wechatMisconfigured, nil), (.wechatAnsweredUnexpectedly, nil), (.codeRefused(.login), nil),
        ]
        for (error, seconds) in expected {
            XCTAssertEqual(header(error.response(requestID: "r", realm: "gw"), "Retry-After"), seconds, "\(error)")
        }
    }

    func testAMissingScopeCarriesTheBearerChallengeThatSaysSo() {
        let answer = OAuthError.insufficientScope("snsapi_base only").response(requestID: "r", realm: "gw")
        XCTAssertEqual(header(answer, "WWW-Authenticate"), "Bearer realm=\"gw\", error=\"insufficient_scope\"")
    }

    func testMethodNotAllowedNamesTheMethodsThatWould() {
        let post = OAuthError.methodNotAllowed(allowed: [.POST]).response(requestID: "r", realm: "gw")
        XCTAssertEqual(header(post, "Allow"), "POST")
        XCTAssertEqual(OAuthError.methodNotAllowed(allowed: [.POST]).description, "use POST")
        let keys = OAuthError.methodNotAllowed(allowed: [.GET, .HEAD])
        XCTAssertEqual(header(keys.response(requestID: "r", realm: "gw"), "Allow"), "GET, HEAD")
        XCTAssertEqual(keys.description, "use GET or HEAD")
    }

    func testBearerRefusalsAreTheProxyPathsAnswer() throws {
        for rejection in [AuthRejection.missingToken, .malformedAuthorization, .invalidToken(.revoked)] {
            let answer = OAuthError.unauthenticated(rejection).response(requestID: "req-9", realm: "gw")
            let proxy = GatewayError.authentication(rejection)
            XCTAssertEqual(answer.status, proxy.status)
            XCTAssertEqual(answer.body, proxy.jsonBody(requestID: "req-9"))
            XCTAssertEqual(try json(answer)["request_id"], "req-9")
            XCTAssertEqual(
                answer.headers.filter { $0.0 != "Content-Type" && $0.0 != "Cache-Control" }.map { "\($0.0): \($0.1)" },
                proxy.headers(realm: "gw").map { "\($0.0): \($0.1)" })
            XCTAssertNotNil(header(answer, "WWW-Authenticate"))
        }
    }

    func testACodeRefusalSaysHowToGetAFreshCode() {
        XCTAssertTrue(OAuthError.codeRefused(.login).description.hasSuffix("call wx.login again"))
        XCTAssertTrue(OAuthError.codeRefused(.phoneNumber).description.hasSuffix("ask for the phone number again"))
        XCTAssertEqual(OAuthError(wechatFailure: .codeUsed, code: .phoneNumber), .codeRefused(.phoneNumber))
        XCTAssertEqual(OAuthError(wechatFailure: .systemBusy, code: .phoneNumber), .wechatUnavailable(.phoneNumber))
        XCTAssertEqual(
            OAuthError(wechatFailure: .malformedAnswer(reason: "openid"), code: .login), .wechatAnsweredUnexpectedly)
    }

    func testTheStoresErrorIsNeverSent() {
        let answer = OAuthError.storeUnavailable(.postgres(operation: "rotate", sqlState: "57P01", message: "secret"))
            .response(requestID: "r", realm: "gw")
        XCTAssertFalse(answer.body.contains("57P01") || answer.body.contains("secret"), answer.body)
    }
}
