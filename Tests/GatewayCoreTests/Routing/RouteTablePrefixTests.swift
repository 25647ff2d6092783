import XCTest

@testable import GatewayCore

/// A route's prefix against a path, decided on the bytes (`RouteTable.prefix(_:matches:)`), held to the rule on the
/// UTF-8 views it replaced: the path starts with the prefix, or is the prefix without its final `/`.
final class RouteTablePrefixTests: XCTestCase {
    private static func rule(_ prefix: String, _ path: Substring) -> Bool {
        path.utf8.starts(with: prefix.utf8)
            || (prefix.utf8.count > 1 && prefix.utf8.last == UInt8(ascii: "/")
                && path.utf8.elementsEqual(prefix.utf8.dropLast()))
    }

    func testPrefixEdges() {
        XCTAssertTrue(RouteTable.prefix("/api/", matches: "/api"))
        XCTAssertTrue(RouteTable.prefix("/api/", matches: "/api/"))
        XCTAssertTrue(RouteTable.prefix("/api/", matches: "/api/x"))
        XCTAssertFalse(RouteTable.prefix("/api/", matches: "/apix"))
        XCTAssertFalse(RouteTable.prefix("/api/", matches: "/ap"))
        XCTAssertFalse(RouteTable.prefix("/api/", matches: "/API/x"))
        XCTAssertTrue(RouteTable.prefix("/api", matches: "/apix"))
        XCTAssertTrue(RouteTable.prefix("/", matches: "/anything"))
        XCTAssertFalse(RouteTable.prefix("/", matches: ""), "a lone / is not dropped to match an empty path")
        XCTAssertTrue(RouteTable.prefix("", matches: ""))
        XCTAssertTrue(RouteTable.prefix("/caf\u{E9}/", matches: "/caf\u{E9}"))
        XCTAssertFalse(RouteTable.prefix("/cafe\u{301}/", matches: "/caf\u{E9}/"), "bytes, not canonical equivalence")
    }

    func testAPathCutFromATargetIsMatchedOnItsOwnBytes() {
        let target = "/api?x=/api/"
        XCTAssertTrue(RouteTable.prefix("/api/", matches: target[..<target.firstIndex(of: "?")!]))
        XCTAssertFalse(RouteTable.prefix("/api/x", matches: target[..<target.firstIndex(of: "?")!]))
    }

    func testEveryShortPrefixAndPathDecideAsTheRule() {
        let alphabet = ["", "/", "a", "b", "/a", "a/", "\u{E9}"]
        var strings: [String] = []
        for first in alphabet {
            for second in alphabet {
                for third in alphabet { strings.append(first + second + third) }
            }
        }
        for prefix in Set(strings) {
            for path in Set(strings) {
                XCTAssertEqual(
                    RouteTable.prefix(prefix, matches: path[...]), Self.rule(prefix, path[...]), "\(prefix) \(path)")
            }
        }
    }
}
