import XCTest

@testable import GatewayCore

/// The pure parts of `/sessions*` on the admin listener (issue 25 item 2): routing, the credential, the requests.
final class AdminSessionsRequestTests: XCTestCase {
    func testSessionEndpointsAndWhatTheTokenGuards() {
        XCTAssertEqual(AdminEndpoint(method: .GET, uri: "/sessions?openid=o"), .listSessions)
        XCTAssertEqual(AdminEndpoint(method: .POST, uri: "/sessions/revoke"), .revokeSessions)
        XCTAssertEqual(AdminEndpoint(method: .GET, uri: "/sessions/revoke"), .methodNotAllowed)
        XCTAssertEqual(AdminEndpoint(method: .POST, uri: "/sessions"), .methodNotAllowed)
        XCTAssertEqual(AdminEndpoint.allowedMethods(uri: "/sessions/revoke"), "POST")
        XCTAssertEqual(AdminEndpoint.allowedMethods(uri: "/metrics"), "GET, HEAD")
        let guarded = [AdminEndpoint.metrics, .listSessions, .revokeSessions].map(\.requiresAdminToken)
        XCTAssertEqual(guarded, [true, true, true])
        XCTAssertEqual([AdminEndpoint.health, .readiness].map(\.requiresAdminToken), [false, false])
    }

    func testTheCredentialAdmitsOnlyTheConfiguredBearerToken() {
        let credential = AdminCredential(token: "secret-token-0123")
        XCTAssertTrue(credential.admits(authorization: "Bearer secret-token-0123"))
        XCTAssertTrue(credential.admits(authorization: "bearer secret-token-0123"), "the scheme is case-insensitive")
        for refused in [
            nil, "", "Bearer ", "Bearer secret-token-012", "Bearer secret-token-01234", "Basic secret-token-0123",
            "secret-token-0123", "Bearer SECRET-TOKEN-0123",
        ] {
            XCTAssertFalse(credential.admits(authorization: refused), "\(refused ?? "nil")")
        }
        XCTAssertTrue(AdminCredential(token: nil).admits(authorization: nil), "no token configured: open")
    }

    func testListingNeedsAnOpenidAndDecodesTheQuery() {
        XCTAssertEqual(
            try AdminSessionsRequest.listing(uri: "/sessions?openid=o%2B1&appid=wx1").get(),
            AdminSessionsRequest(selector: .user(openid: "o+1", appid: "wx1"), reason: nil))
        let plain = try? AdminSessionsRequest.listing(uri: "/sessions?openid=o1").get()
        XCTAssertEqual(plain?.selector, .user(openid: "o1", appid: nil))
        for bad in ["/sessions", "/sessions?openid=", "/sessions?appid=wx1"] {
            XCTAssertThrowsError(try AdminSessionsRequest.listing(uri: bad).get(), bad)
        }
    }

    func testRevocationTakesAnOpenidOrASidAndAReason() {
        func parse(_ json: String) -> Result<AdminSessionsRequest, AdminRequestError> {
            AdminSessionsRequest.revocation(body: Array(json.utf8))
        }
        XCTAssertEqual(
            try parse(#"{"openid": "o1", "appid": "wx1", "reason": "stolen phone"}"#).get(),
            AdminSessionsRequest(selector: .user(openid: "o1", appid: "wx1"), reason: "stolen phone"))
        XCTAssertEqual(try parse(#"{"sid": "abc"}"#).get(), AdminSessionsRequest(selector: .session(sid: "abc")))
        for bad in [
            "", "[]", "{}", #"{"openid": ""}"#, #"{"openid": "o", "sid": "s"}"#, #"{"sid": "s", "appid": "wx1"}"#,
            #"{"openid": "a", "openid": "b"}"#,
        ] {
            XCTAssertThrowsError(try parse(bad).get(), bad)
        }
    }

    /// What `gateway sessions` sends is read back as what the operator asked.
    func testTheCommandLinesCallsAreReadBackAsAsked() throws {
        let list = AdminSessionsCall.list(openid: "o+1 &x=y", appid: "wx1")
        XCTAssertEqual(list.method, "GET")
        XCTAssertEqual(
            try AdminSessionsRequest.listing(uri: list.target).get().selector, .user(openid: "o+1 &x=y", appid: "wx1"))
        for (selector, reason) in [
            (AdminSessionsRequest.Selector.user(openid: "o\"1", appid: nil), "stolen \"phone\""),
            (.session(sid: "abc"), nil),
        ] {
            let call = AdminSessionsCall.revoke(selector, reason: reason)
            XCTAssertEqual(call.method, "POST")
            XCTAssertEqual(call.target, "/sessions/revoke")
            let parsed = try AdminSessionsRequest.revocation(body: Array((call.body ?? "").utf8)).get()
            XCTAssertEqual(parsed, AdminSessionsRequest(selector: selector, reason: reason))
        }
        XCTAssertEqual(
            AdminSessionsCall.baseURL(of: ListenAddress(host: "0.0.0.0", port: 9901)), "http://127.0.0.1:9901")
        XCTAssertEqual(AdminSessionsCall.baseURL(of: ListenAddress(host: "::1", port: 9901)), "http://[::1]:9901")
    }
}
