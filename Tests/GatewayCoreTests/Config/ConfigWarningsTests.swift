import XCTest

@testable import GatewayCore

/// Issue 22 item 6: `[wechat] api_base` defaults to WeChat's own HTTPS API, and a plain-HTTP one on an exposed
/// listener is a warning.
final class ConfigWarningsTests: XCTestCase {
    private func config(server: String = "", wechat: String = "") throws -> GatewayConfiguration {
        try ConfigLoader(environment: [:]).parse(
            text: """
                [server]
                \(server)
                [wechat]
                \(wechat)
                [[wechat.apps]]
                appid = "wx0000000000000001"
                secret = "s"
                [tokens]
                secret = "0123456789abcdef0123456789abcdef"
                """
        ).get()
    }

    func testAnOmittedAPIBaseIsWeChatsHTTPSAPINotALoopbackPort() throws {
        XCTAssertEqual(WeChatConfig().apiBase, "https://api.weixin.qq.com")
        XCTAssertEqual(try config().wechat.apiBase, "https://api.weixin.qq.com")
        XCTAssertEqual(ConfigWarnings.of(try config(server: "listen = \"0.0.0.0:443\"")), [])
    }

    func testPlainHTTPAPIBaseOnAnExposedListenerIsAWarning() throws {
        let simulator = "api_base = \"http://127.0.0.1:9100\""
        for server in [
            "listen = \"0.0.0.0:8080\"", "trusted_proxies = [\"10.0.0.0/8\"]",
            "tls_certificate = \"c.pem\"\ntls_private_key = \"k.pem\"",
        ] {
            let warnings = ConfigWarnings.of(try config(server: server, wechat: simulator))
            XCTAssertEqual(warnings.map(\.path), ["wechat.api_base"], server)
            XCTAssertTrue(warnings.first?.message.contains("AppSecret in clear text") ?? false, "\(warnings)")
        }
    }

    func testPlainHTTPOnAPrivateListenerAndHTTPSAnywhereAreQuiet() throws {
        XCTAssertEqual(ConfigWarnings.of(try config(wechat: "api_base = \"http://127.0.0.1:9100\"")), [])
        let https = try config(server: "listen = \"0.0.0.0:443\"", wechat: "api_base = \"https://wx.example.com\"")
        XCTAssertEqual(ConfigWarnings.of(https), [])
    }
}
