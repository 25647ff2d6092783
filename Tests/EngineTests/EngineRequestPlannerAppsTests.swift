import Foundation
import GatewayCore
import Tokens
import XCTest

@testable import Engine

/// The slice applies a route's `apps` as `RequestPlanner` does: another app's token is answered 403 before any
/// upstream.
final class EngineRequestPlannerAppsTests: XCTestCase {
    private static let secret = "0123456789abcdef0123456789abcdef"

    private func decide(appid: String) throws -> RequestDecision {
        let text = """
            [[wechat.apps]]
            appid = "wxB"
            secret = "s"

            [tokens]
            secret = "\(Self.secret)"

            [[routes]]
            prefix = "/b/"
            upstreams = ["http://127.0.0.1:9001"]
            apps = ["wxB"]
            """
        let config = try ConfigLoader(environment: [:]).parse(text: text).get()
        let ring = try config.tokens.makeKeyRing().get()
        let token = try TokenIssuer(keyRing: ring, issuer: config.tokens.issuer, audience: config.tokens.audience)
            .issue(subject: "o-1", appid: appid, unionid: nil, ttl: 900, now: Date()).token
        let planner = EngineRequestPlanner(
            routes: RouteTable(config.routes),
            verifier: GatewayRuntime.makeVerifier(config: config.tokens, keyRing: ring, revocations: RevocationList()),
            rewriter: HeaderRewriter(identity: config.identity, trustedProxies: []))
        let bytes = Array("GET /b/x HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer \(token)\r\n\r\n".utf8)
        return bytes.withUnsafeBytes { raw in
            let parser = RequestHeadParser()
            _ = parser.parse(raw.baseAddress!, from: 0, count: raw.count)
            var rules: [RequestFieldRule] = []
            return planner.plan(parser.head, in: raw.baseAddress!, rules: &rules, now: Date())
        }
    }

    func testAnotherAppIsRefusedAndTheListedOneForwarded() throws {
        guard case .answer(let error, _, _, let route) = try decide(appid: "wxA") else { return XCTFail() }
        XCTAssertEqual(error, .appNotAllowed)
        XCTAssertEqual(route, "/b/")
        guard case .forward = try decide(appid: "wxB") else { return XCTFail() }
    }
}
