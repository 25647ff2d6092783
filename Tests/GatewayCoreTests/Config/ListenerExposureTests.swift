import XCTest

@testable import GatewayCore

/// Issue 22 item 5: a listener is exposed when it is not loopback, when trusted_proxies is set, or when it serves
/// TLS; development secrets are refused on any exposed listener.
final class ListenerExposureTests: XCTestCase {
    private func config(
        _ server: String, tokenSecret: String = DevelopmentSecrets.tokenSecret
    ) throws
        -> GatewayConfiguration
    {
        try ConfigLoader(environment: [:]).parse(
            text: """
                [server]
                \(server)
                [[wechat.apps]]
                appid = "wx0000000000000001"
                secret = "s"
                [tokens]
                secret = "\(tokenSecret)"
                """
        ).get()
    }

    func testALoopbackListenerWithoutProxiesOrTLSIsPrivate() throws {
        for listen in ["127.0.0.1:8080", "[::1]:8080", "localhost:8080"] {
            let server = try config("listen = \"\(listen)\"").server
            XCTAssertNil(ListenerExposure(server).reason, listen)
        }
    }

    func testEveryWayOfBeingExposedIsNamed() throws {
        let cases: [(String, String)] = [
            ("listen = \"0.0.0.0:8080\"", "server.listen 0.0.0.0:8080"),
            ("listen = \"127.0.0.1:8080\"\ntrusted_proxies = [\"10.0.0.0/8\"]", "server.trusted_proxies"),
            (
                "listen = \"127.0.0.1:8443\"\ntls_certificate = \"c.pem\"\ntls_private_key = \"k.pem\"",
                "server.tls_certificate"
            ),
        ]
        for (server, named) in cases {
            let loaded = try config(server)
            let reason = ListenerExposure(loaded.server).reason
            XCTAssertTrue(reason?.contains(named) ?? false, "\(server): \(reason ?? "private")")
            let problems = DevelopmentSecrets.problems(in: loaded)
            XCTAssertEqual(problems.count, 1, server)
            XCTAssertTrue(problems.first?.contains(named) ?? false, "\(problems)")
        }
    }

    func testRealSecretsBehindAProxyAreFine() throws {
        let loaded = try config(
            "trusted_proxies = [\"10.0.0.0/8\"]", tokenSecret: "0123456789abcdef0123456789abcdef-real")
        XCTAssertEqual(DevelopmentSecrets.problems(in: loaded), [])
    }
}
