import NIOHTTP1
import XCTest

@testable import GatewayCore

/// Which paths the control plane takes from the proxy path (`AuthEndpoints.handles`), decided by byte for every
/// proxied request: everything under `/auth/` and each route's exact path, nothing else.
final class AuthEndpointsHandlesTests: XCTestCase {
    private func handles(_ path: String) -> Bool {
        var path = path
        return path.withUTF8 { AuthEndpoints.handles(utf8: UnsafeRawBufferPointer($0), routes: AuthEndpoints.routes) }
    }

    func testEveryPathUnderAuthIsTheControlPlanes() {
        for path in ["/auth/", "/auth/login", "/auth/unknown", "/auth//x", "/auth/l\u{F6}gin", "/auth/../x", "/auth/?"]
        {
            XCTAssertTrue(handles(path), path)
        }
    }

    func testPathsNearAuthAreNot() {
        for path in ["", "/", "/auth", "/authx/login", "/AUTH/login", "/Auth/", "auth/login", "//auth/", "/aut/", "/a"]
        {
            XCTAssertFalse(handles(path), path)
        }
    }

    func testTheJWKSPathIsExact() {
        XCTAssertTrue(handles("/.well-known/jwks.json"))
        for path in [
            "/.well-known/jwks", "/.well-known/jwks.json/", "/.well-known/jwks.jsonx", "/.well-known/JWKS.json",
        ] {
            XCTAssertFalse(handles(path), path)
        }
    }

    func testAPathCutFromATargetIsDecidedOnItsOwnBytes() {
        let target = "/.well-known/jwks.json?x=1"
        XCTAssertTrue(AuthEndpoints.routes.contains(path: target[..<target.firstIndex(of: "?")!]))
        let longer = "/.well-known/jwks.jsonx"
        XCTAssertTrue(AuthEndpoints.routes.contains(path: longer.dropLast()))
        XCTAssertFalse(AuthEndpoints.routes.contains(path: longer.dropLast(2)))
    }

    func testARouteWithAnEmptyPathMatchesOnlyTheEmptyPath() {
        let table = ControlRouteTable<Void>([
            ControlRoute([.GET], "", .plain { _ in { _ in ControlResponse(status: .ok, body: "") } })
        ])
        XCTAssertTrue(table.contains(path: ""))
        XCTAssertFalse(table.contains(path: "/"))
    }
}
