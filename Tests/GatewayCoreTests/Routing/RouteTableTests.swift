import XCTest

@testable import GatewayCore

final class RouteTableTests: XCTestCase {
    private func route(
        _ prefix: String, index: Int, host: String? = nil, methods: [String] = []
    ) -> RouteConfig {
        var route = RouteConfig(
            prefix: prefix, upstreams: [UpstreamURL(configText: "http://127.0.0.1:9001")!], index: index)
        route.host = host
        route.methods = methods
        return route
    }

    private func matchedIndex(
        _ table: RouteTable, _ path: String, method: String = "GET", host: String? = nil
    ) -> Int? {
        table.match(method: method, path: path[...], host: host.map { $0[...] })?.index
    }

    func testLongestPrefixWinsWhateverTheFileOrder() {
        let table = RouteTable([route("/", index: 0), route("/api/", index: 1), route("/api/admin/", index: 2)])

        XCTAssertEqual(matchedIndex(table, "/api/admin/users"), 2)
        XCTAssertEqual(matchedIndex(table, "/api/users"), 1)
        XCTAssertEqual(matchedIndex(table, "/static/app.js"), 0)
    }

    func testPrefixWithTrailingSlashAlsoMatchesPathWithoutIt() {
        let table = RouteTable([route("/api/", index: 0)])

        XCTAssertEqual(matchedIndex(table, "/api"), 0)
        XCTAssertEqual(matchedIndex(table, "/api/"), 0)
    }

    func testPrefixWithTrailingSlashDoesNotMatchLongerSegment() {
        let table = RouteTable([route("/api/", index: 0)])

        XCTAssertNil(matchedIndex(table, "/apix"))
        XCTAssertNil(matchedIndex(table, "/apix/users"))
        XCTAssertNil(matchedIndex(table, "/ap"))
    }

    func testUnmatchedPathHasNoRoute() {
        let table = RouteTable([route("/api/", index: 0)])

        XCTAssertNil(matchedIndex(table, "/"))
        XCTAssertNil(matchedIndex(table, "/other"))
    }

    func testRootPrefixMatchesEveryPath() {
        let table = RouteTable([route("/", index: 0)])

        XCTAssertEqual(matchedIndex(table, "/"), 0)
        XCTAssertEqual(matchedIndex(table, "/anything/at/all"), 0)
    }

    func testHostNarrowedRouteIsTriedBeforeGeneralRouteWithSamePrefix() {
        // The general route comes first in the file: narrowing, not file order, decides.
        let table = RouteTable([route("/api/", index: 0), route("/api/", index: 1, host: "admin.example.com")])

        XCTAssertEqual(matchedIndex(table, "/api/x", host: "admin.example.com"), 1)
        XCTAssertEqual(matchedIndex(table, "/api/x", host: "www.example.com"), 0)
        XCTAssertEqual(matchedIndex(table, "/api/x", host: nil), 0)
    }

    func testHostNarrowedRouteDoesNotMatchOtherHostOrMissingHost() {
        let table = RouteTable([route("/api/", index: 0, host: "admin.example.com")])

        XCTAssertNil(matchedIndex(table, "/api/x", host: "www.example.com"))
        XCTAssertNil(matchedIndex(table, "/api/x", host: nil))
    }

    func testMethodNarrowedRouteIsTriedBeforeGeneralRouteWithSamePrefix() {
        let table = RouteTable([route("/api/", index: 0), route("/api/", index: 1, methods: ["POST", "PUT"])])

        XCTAssertEqual(matchedIndex(table, "/api/x", method: "POST"), 1)
        XCTAssertEqual(matchedIndex(table, "/api/x", method: "PUT"), 1)
        XCTAssertEqual(matchedIndex(table, "/api/x", method: "GET"), 0)
    }

    func testMethodNarrowedRouteAloneRejectsOtherMethods() {
        let table = RouteTable([route("/api/", index: 0, methods: ["GET"])])

        XCTAssertEqual(matchedIndex(table, "/api/x", method: "GET"), 0)
        XCTAssertNil(matchedIndex(table, "/api/x", method: "DELETE"))
    }

    func testLongerPrefixWinsOverNarrowedShorterPrefix() {
        let table = RouteTable([
            route("/api/", index: 0, host: "a.example", methods: ["GET"]), route("/api/v2/", index: 1),
        ])

        XCTAssertEqual(matchedIndex(table, "/api/v2/x", host: "a.example"), 1)
    }

    func testRouteNarrowedByHostAndMethodsIsTriedFirst() {
        let table = RouteTable([
            route("/api/", index: 0),
            route("/api/", index: 1, methods: ["GET"]),
            route("/api/", index: 2, host: "a.example"),
            route("/api/", index: 3, host: "a.example", methods: ["GET"]),
        ])

        XCTAssertEqual(table.routes.map(\.index), [3, 2, 1, 0])
        XCTAssertEqual(matchedIndex(table, "/api/x", method: "GET", host: "a.example"), 3)
        XCTAssertEqual(matchedIndex(table, "/api/x", method: "POST", host: "a.example"), 2)
        XCTAssertEqual(matchedIndex(table, "/api/x", method: "GET", host: "b.example"), 1)
        XCTAssertEqual(matchedIndex(table, "/api/x", method: "POST", host: "b.example"), 0)
    }

    func testEqualRoutesKeepFileOrder() {
        let table = RouteTable([route("/api/", index: 0), route("/api/", index: 1)])

        XCTAssertEqual(matchedIndex(table, "/api/x"), 0)
    }
}
