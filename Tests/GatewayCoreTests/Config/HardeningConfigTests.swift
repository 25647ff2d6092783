import Foundation
import XCTest

@testable import GatewayCore

/// Config rules added by issue 15: `[server] max_connections`, appids without control characters, and the
/// shipped development secrets kept off public listeners.
final class HardeningConfigTests: XCTestCase {
    let loader = ConfigLoader(environment: [:])

    private func text(
        listen: String = "127.0.0.1:8080", server: String = "", appid: String = "wx0000000000000001",
        appSecret: String = "s", tokenSecret: String = "0123456789abcdef0123456789abcdef"
    ) -> String {
        """
        [server]
        listen = "\(listen)"
        \(server)

        [wechat]
        [[wechat.apps]]
        appid = "\(appid)"
        secret = "\(appSecret)"

        [tokens]
        secret = "\(tokenSecret)"
        """
    }

    private func issues(_ text: String) -> [ConfigIssue] {
        switch loader.parse(text: text) {
        case .success: return []
        case .failure(let error): return error.issues
        }
    }

    func testMaxConnectionsDefaultsToTenThousandAndIsBounded() throws {
        XCTAssertEqual(try loader.parse(text: text()).get().server.maxConnections, 10_000)
        XCTAssertEqual(try loader.parse(text: text(server: "max_connections = 5")).get().server.maxConnections, 5)
        for bad in ["0", "-1", "1000001"] {
            let found = issues(text(server: "max_connections = \(bad)"))
            XCTAssertTrue(
                found.contains { $0.path == "server.max_connections" && $0.message.contains("between 1 and") },
                "\(bad): \(found)")
        }
    }

    func testAppIDWithAControlCharacterIsAConfigError() {
        for appid in ["wx1\\u0001", "wx1\\r\\nX-Admin: 1", "wx\\u007f1", "wx\\t1"] {
            let found = issues(text(appid: appid))
            XCTAssertTrue(
                found.contains { $0.path == "wechat.apps[0].appid" && $0.message.contains("control characters") },
                "\(appid): \(found)")
        }
    }

    func testDevelopmentSecretsOnAPublicListenerAreNamed() throws {
        let config = try loader.parse(
            text: text(
                listen: "0.0.0.0:8080", appSecret: DevelopmentSecrets.wechatAppSecret,
                tokenSecret: DevelopmentSecrets.tokenSecret)
        ).get()
        let problems = DevelopmentSecrets.problems(in: config)
        guard problems.count == 2 else { return XCTFail("expected two problems, got \(problems)") }
        XCTAssertTrue(problems[0].hasPrefix("tokens.secret is the shipped development secret"), problems[0])
        XCTAssertTrue(problems[0].contains("GATEWAY_TOKEN_SECRET"))
        XCTAssertFalse(problems[0].contains(DevelopmentSecrets.tokenSecret), "name the key, never the secret")
        XCTAssertTrue(problems[1].hasPrefix("wechat.apps[0].secret is the shipped development secret"), problems[1])
    }

    func testDevelopmentSecretsOnLoopbackAndRealSecretsAnywhereAreFine() throws {
        for listen in ["127.0.0.1:8080", "127.1.2.3:80", "[::1]:8080", "localhost:8080"] {
            let config = try loader.parse(
                text: text(
                    listen: listen, appSecret: DevelopmentSecrets.wechatAppSecret,
                    tokenSecret: DevelopmentSecrets.tokenSecret)
            ).get()
            XCTAssertEqual(DevelopmentSecrets.problems(in: config), [], listen)
        }
        let real = try loader.parse(text: text(listen: "0.0.0.0:443")).get()
        XCTAssertEqual(DevelopmentSecrets.problems(in: real), [])
    }

    func testShippedConfigOnAPublicListenerIsRefused() throws {
        // The shipped file with its listener moved: exactly the mistake this rule exists for.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        var text = try String(contentsOf: root.appendingPathComponent("gateway.conf"), encoding: .utf8)
        text = text.replacingOccurrences(of: "listen = \"127.0.0.1:8080\"", with: "listen = \"0.0.0.0:8080\"")
        let config = try loader.parse(text: text).get()
        XCTAssertEqual(config.server.listen.host, "0.0.0.0")
        XCTAssertEqual(DevelopmentSecrets.problems(in: config).count, 2)
    }
}
