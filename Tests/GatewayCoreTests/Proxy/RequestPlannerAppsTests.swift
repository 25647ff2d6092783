import Foundation
import NIOHTTP1
import XCTest

@testable import GatewayCore

/// Routes per app (`apps` on a route): a token of an app the route does not list is refused with 403
/// `insufficient_scope` (RFC 6750 section 3.1) before any upstream is picked, on plain requests and upgrades alike.
final class RequestPlannerAppsTests: XCTestCase {
    private var runtime: GatewayRuntime!

    override func setUpWithError() throws {
        runtime = try ProxyFixture.runtime(
            """
            [[routes]]
            prefix = "/only/"
            upstreams = ["http://127.0.0.1:9005"]
            apps = ["wx1"]

            [[routes]]
            prefix = "/maybe/"
            upstreams = ["http://127.0.0.1:9006"]
            auth = "optional"
            apps = ["wx1"]

            [[routes]]
            prefix = "/ws/"
            upstreams = ["http://127.0.0.1:9007"]
            websocket = true
            apps = ["wx1"]
            """)
    }

    private func plan(_ uri: String, _ headers: [(String, String)] = []) -> RequestPlan {
        var fields = HTTPHeaders(headers)
        fields.add(name: "Host", value: "gw.example")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: fields)
        return RequestPlanner(runtime: runtime, scheme: "https").plan(
            head, fields: RequestHeadFields(fields), target: RequestTarget(uri), peerAddress: "10.1.2.3",
            requestID: "req-1", now: Date())
    }

    private func bearer(_ appid: String) throws -> (String, String) {
        ("Authorization", "Bearer \(try ProxyFixture.token(appid: appid))")
    }

    private func answer(_ plan: RequestPlan) -> GatewayError? {
        if case .answer(let error, _) = plan.decision { return error }
        return nil
    }

    func testTokenOfAnotherAppIsRefusedWithInsufficientScope() throws {
        let planned = plan("/only/x", [try bearer("wx-other")])
        XCTAssertEqual(answer(planned), .appNotAllowed)
        XCTAssertEqual(planned.route, "/only/")
        XCTAssertEqual(planned.openid, "o-alice")
    }

    func testTokenOfAListedAppIsForwarded() throws {
        let planned = plan("/only/x", [try bearer("wx1")])
        guard case .forward(let forward) = planned.decision else { return XCTFail("\(planned.decision)") }
        XCTAssertEqual(forward.request.url, "http://127.0.0.1:9005/only/x")
    }

    func testRouteWithoutAppsTakesEveryApp() throws {
        guard case .forward = plan("/api/x", [try bearer("wx-other")]).decision else { return XCTFail() }
    }

    func testMissingTokenIsStillAnAuthenticationFailure() {
        XCTAssertEqual(answer(plan("/only/x")), .authentication(.missingToken))
    }

    func testOptionalRouteLetsAnonymousThroughButNotAnotherApp() throws {
        guard case .forward = plan("/maybe/x").decision else { return XCTFail() }
        XCTAssertEqual(answer(plan("/maybe/x", [try bearer("wx-other")])), .appNotAllowed)
        guard case .forward = plan("/maybe/x", [try bearer("wx1")]).decision else { return XCTFail() }
    }

    func testWebSocketUpgradeOfAnotherAppIsRefusedBeforeTheTunnel() throws {
        let upgrade = [
            ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]
        XCTAssertEqual(answer(plan("/ws/chat", upgrade + [try bearer("wx-other")])), .appNotAllowed)
        guard case .tunnel = plan("/ws/chat", upgrade + [try bearer("wx1")]).decision else { return XCTFail() }
    }

    func testAnswerIsA403WithTheRFC6750Challenge() {
        let error = GatewayError.appNotAllowed
        XCTAssertEqual(error.status, .forbidden)
        XCTAssertEqual(error.code, "insufficient_scope")
        let headers = error.headers(realm: "legacy \"api\"")
        let challenge = headers.first { $0.0 == "WWW-Authenticate" }?.1
        XCTAssertEqual(challenge, "Bearer realm=\"legacy 'api'\", error=\"insufficient_scope\"")
        XCTAssertEqual(headers.first { $0.0 == GatewayError.markField }?.1, "insufficient_scope")
    }
}
