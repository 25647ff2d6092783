import XCTest

@testable import GatewayCore

/// `apps` on a route: read, and refused when it could never match or has nothing to check.
final class RouteAppsConfigTests: XCTestCase {
    private let loader = ConfigLoader(environment: [:])

    private func text(_ route: String) -> String {
        """
        [wechat]
        [[wechat.apps]]
        appid = "wxA"
        secret = "s"
        [[wechat.apps]]
        appid = "wxB"
        secret = "s"

        [tokens]
        secret = "0123456789abcdef0123456789abcdef"

        [[routes]]
        prefix = "/api/"
        upstreams = ["http://127.0.0.1:9001"]

        [[routes]]
        prefix = "/b/"
        upstreams = ["http://127.0.0.1:9002"]
        \(route)
        """
    }

    private func issues(_ route: String) -> [ConfigIssue] {
        switch loader.parse(text: text(route)) {
        case .success: return []
        case .failure(let error): return error.issues
        }
    }

    func testAppsAreReadAndAbsentMeansEveryApp() throws {
        let config = try loader.parse(text: text("apps = [\"wxB\"]")).get()
        XCTAssertNil(config.routes[0].apps)
        XCTAssertEqual(config.routes[1].apps, ["wxB"])
    }

    func testUnknownAppidNamesTheKey() {
        let found = issues("apps = [\"wxB\", \"wxC\"]")
        XCTAssertEqual(found.map(\.path), ["routes[1].apps"])
        XCTAssertTrue(found.first?.message.contains("\"wxC\"") == true, "\(found)")
    }

    func testEmptyListIsAnError() {
        XCTAssertEqual(issues("apps = []").map(\.path), ["routes[1].apps"])
    }

    func testAuthNoneWithAppsIsAnError() {
        XCTAssertEqual(issues("auth = \"none\"\napps = [\"wxA\"]").map(\.path), ["routes[1].apps"])
        XCTAssertEqual(issues("auth = \"optional\"\napps = [\"wxA\"]"), [])
    }
}
