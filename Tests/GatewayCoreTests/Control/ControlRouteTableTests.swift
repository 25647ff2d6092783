import NIOHTTP1
import XCTest

@testable import GatewayCore

/// The control plane's route table: what each endpoint answers, how it is limited and what it needs, and how a
/// request is matched. Pure: the table is read, no handler runs.
final class ControlRouteTableTests: XCTestCase {
    /// What a match came to, as text: the route's path, `405 <Allow>` or `404`.
    private func outcome<Context>(_ table: ControlRouteTable<Context>, _ method: HTTPMethod, _ path: String) -> String {
        switch table.match(method, Substring(path)) {
        case .route(let route): return route.path
        case .methodNotAllowed(let allowed): return "405 " + allowed.map(\.rawValue).joined(separator: ", ")
        case .notFound: return "404"
        }
    }

    func testEveryEndpointIsOneRouteWithItsMethodsBucketAndNeeds() {
        let expected = [
            "POST /auth/login authPerClientAddress form",
            "POST /auth/token authPerClientAddress form",
            "POST /auth/revoke authPerClientAddress form",
            "POST /auth/logout authPerClientAddress bearer",
            "POST /auth/userinfo none bearer form",
            "POST /auth/phone phonePerUser bearer form",
            "GET /auth/profile phonePerUser bearer",
            "GET,HEAD /.well-known/jwks.json none",
        ]
        let described = AuthEndpoints.routes.routes.map { route in
            [
                route.methods.map(\.rawValue).joined(separator: ","), route.path, "\(route.rateLimit)",
                route.handler.needsBearerToken ? "bearer" : nil, route.handler.readsForm ? "form" : nil,
            ].compactMap { $0 }.joined(separator: " ")
        }
        XCTAssertEqual(described, expected)
        XCTAssertEqual(Set(AuthEndpoints.routes.routes.map(\.path)).count, expected.count, "each path once")
    }

    func testARequestFindsItsRouteByMethodAndExactPath() {
        let routes = AuthEndpoints.routes
        for path in ["/auth/login", "/auth/token", "/auth/revoke", "/auth/logout", "/auth/userinfo", "/auth/phone"] {
            XCTAssertEqual(outcome(routes, .POST, path), path)
        }
        XCTAssertEqual(outcome(routes, .GET, "/.well-known/jwks.json"), "/.well-known/jwks.json")
        XCTAssertEqual(outcome(routes, .HEAD, "/.well-known/jwks.json"), "/.well-known/jwks.json")
    }

    func testAnotherMethodIsAnsweredWithTheMethodsThatWould() {
        let routes = AuthEndpoints.routes
        for method in [HTTPMethod.GET, .HEAD, .PUT, .DELETE, .OPTIONS, .PATCH] {
            XCTAssertEqual(outcome(routes, method, "/auth/login"), "405 POST", "\(method)")
            XCTAssertEqual(outcome(routes, method, "/auth/phone"), "405 POST", "\(method)")
        }
        XCTAssertEqual(outcome(routes, .POST, "/.well-known/jwks.json"), "405 GET, HEAD")
        XCTAssertEqual(outcome(routes, .DELETE, "/.well-known/jwks.json"), "405 GET, HEAD")
    }

    func testOnlyTheExactPathMatches() {
        let routes = AuthEndpoints.routes
        for path in ["/auth/", "/auth/login/", "/auth/Login", "/auth/loginx", "/auth//login", "/auth/login%20", ""] {
            XCTAssertEqual(outcome(routes, .POST, path), "404", path)
            XCTAssertFalse(routes.contains(path: Substring(path)), path)
        }
        XCTAssertTrue(routes.contains(path: "/auth/logout"))
        XCTAssertTrue(routes.contains(path: "/.well-known/jwks.json"))
        XCTAssertFalse(routes.contains(path: "/.well-known/jwks"))
        // As long as a route's path, not it; and a path cut from a longer target, as the planners pass it.
        for path in ["/api/orders", "/auth/logix", "/auth/l\u{F6}gin"] {
            XCTAssertFalse(routes.contains(path: Substring(path)), path)
        }
        let target = "/auth/token?grant_type=refresh_token"
        XCTAssertTrue(routes.contains(path: target[..<target.firstIndex(of: "?")!]))
        XCTAssertEqual(outcome(routes, .POST, "/auth/token"), "/auth/token")
    }

    func testOnePathUnderSeveralRoutesAllowsEveryMethodOnceInTableOrder() {
        func answer(_ name: String) -> ControlRoute<Void>.Handler {
            .plain { _ in { _ in ControlResponse(status: .ok, body: name) } }
        }
        let table = ControlRouteTable<Void>([
            ControlRoute([.GET, .HEAD], "/x", answer("read")),
            ControlRoute([.PUT, .HEAD], "/x", answer("write")),
            ControlRoute([.POST], "/y", answer("other")),
        ])
        XCTAssertEqual(outcome(table, .PUT, "/x"), "/x")
        XCTAssertEqual(outcome(table, .DELETE, "/x"), "405 GET, HEAD, PUT")
        XCTAssertEqual(outcome(table, .GET, "/y"), "405 POST")
        XCTAssertEqual(outcome(table, .GET, "/z"), "404")
    }
}
