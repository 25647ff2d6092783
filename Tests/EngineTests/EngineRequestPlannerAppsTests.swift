import Foundation
import GatewayCore
import XCTest

@testable import Engine

/// Routes per app (`apps` on a route): a token of an app the route does not list is refused with 403
/// `insufficient_scope` (RFC 6750 section 3.1) before any upstream is picked, on plain requests and upgrades alike.
final class EngineRequestPlannerAppsTests: XCTestCase {
    private var runtime: GatewayRuntime!

    override func setUpWithError() throws {
        runtime = try EnginePlannerFixture.runtime(
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

    private func plan(_ target: String, _ fields: [(String, String)] = []) -> RequestDecision {
        EnginePlannerFixture.plan(runtime, "GET \(target) HTTP/1.1", fields)
    }

    private func bearer(_ appid: String) throws -> (String, String) {
        ("Authorization", "Bearer \(try EnginePlannerFixture.token(appid: appid))")
    }

    func testTokenOfAnotherAppIsRefusedWithInsufficientScope() throws {
        let planned = plan("/only/x", [try bearer("wx-other")])
        XCTAssertEqual(planned.error, .appNotAllowed)
        XCTAssertEqual(planned.route, "/only/")
    }

    func testTokenOfAListedAppIsForwarded() throws {
        let forward = try XCTUnwrap(plan("/only/x", [try bearer("wx1")]).forward)
        XCTAssertEqual(forward.upstream.description, "http://127.0.0.1:9005")
        XCTAssertEqual(forward.claims?.appid, "wx1")
    }

    func testRouteWithoutAppsTakesEveryApp() throws {
        XCTAssertNotNil(plan("/api/x", [try bearer("wx-other")]).forward)
    }

    func testMissingTokenIsStillAnAuthenticationFailure() {
        XCTAssertEqual(plan("/only/x").error, .authentication(.missingToken))
    }

    func testOptionalRouteLetsAnonymousThroughButNotAnotherApp() throws {
        XCTAssertNil(try XCTUnwrap(plan("/maybe/x").forward).claims)
        XCTAssertEqual(plan("/maybe/x", [try bearer("wx-other")]).error, .appNotAllowed)
        XCTAssertNotNil(plan("/maybe/x", [try bearer("wx1")]).forward)
    }

    /// An upgrade that passed `EngineWorker.upgradeCheck` is planned like any request before its tunnel opens.
    func testWebSocketUpgradeOfAnotherAppIsRefusedBeforeTheTunnel() throws {
        let upgrade = [
            ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]
        XCTAssertEqual(plan("/ws/chat", upgrade + [try bearer("wx-other")]).error, .appNotAllowed)
        XCTAssertNotNil(plan("/ws/chat", upgrade + [try bearer("wx1")]).forward)
    }

    func testAnswerIsA403WithTheRFC6750Challenge() {
        var out: [UInt8] = []
        _ = ClientHeadWriter.writeAnswer(
            .appNotAllowed, requestID: "r1", realm: "legacy \"api\"", isHead: false, closes: false, isHTTP10: false,
            into: &out)
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), text)
        XCTAssertTrue(
            text.contains("WWW-Authenticate: Bearer realm=\"legacy 'api'\", error=\"insufficient_scope\"\r\n"), text)
        XCTAssertTrue(text.contains("\(GatewayError.markField): insufficient_scope\r\n"), text)
    }
}
