import Foundation
import XCTest

@testable import GatewayCore

/// `[server] admin_token` (issue 25 item 2): read from the environment, required for a non-loopback admin listener.
final class AdminTokenConfigTests: XCTestCase {
    private func text(adminListen: String, token: String? = nil) -> String {
        """
        [server]
        listen = "127.0.0.1:8080"
        admin_listen = "\(adminListen)"
        \(token.map { "admin_token = \"\($0)\"" } ?? "")

        [wechat]
        [[wechat.apps]]
        appid = "wx0000000000000001"
        secret = "s"

        [tokens]
        secret = "0123456789abcdef0123456789abcdef"
        """
    }

    private func issues(_ text: String, environment: [String: String] = [:]) -> [ConfigIssue] {
        switch ConfigLoader(environment: environment).parse(text: text) {
        case .success: return []
        case .failure(let error): return error.issues
        }
    }

    func testANonLoopbackAdminListenerWithoutATokenIsAnError() {
        let found = issues(text(adminListen: "0.0.0.0:9901"))
        XCTAssertEqual(found.map(\.path), ["server.admin_token"])
        XCTAssertTrue(found.first?.message.contains("0.0.0.0:9901") == true, "\(found)")
        XCTAssertEqual(issues(text(adminListen: "127.0.0.1:9901")), [], "a loopback listener needs no token")
        XCTAssertEqual(issues(text(adminListen: "[::1]:9901")), [])
    }

    func testTheTokenComesFromTheEnvironmentAndMustBeLongEnough() throws {
        let environment = ["GATEWAY_ADMIN_TOKEN": "an-admin-token-of-some-length"]
        let config = try ConfigLoader(environment: environment).parse(
            text: text(adminListen: "0.0.0.0:9901", token: "${GATEWAY_ADMIN_TOKEN}")
        ).get()
        XCTAssertEqual(config.server.adminToken, "an-admin-token-of-some-length")
        let short = issues(text(adminListen: "127.0.0.1:9901", token: "short"))
        XCTAssertEqual(short.map(\.path), ["server.admin_token"])
    }
}
