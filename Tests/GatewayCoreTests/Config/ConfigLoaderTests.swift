import Foundation
import XCTest

@testable import GatewayCore

final class ConfigLoaderTests: XCTestCase {
    let loader = ConfigLoader(environment: ["UPSTREAM_PORT": "9009"])

    /// The smallest valid file: one app, a long enough secret, one route.
    let minimal = """
        [wechat]
        [[wechat.apps]]
        appid = "wx0000000000000001"
        secret = "s"

        [tokens]
        secret = "0123456789abcdef0123456789abcdef"

        [[routes]]
        prefix = "/api/"
        upstreams = ["http://127.0.0.1:${UPSTREAM_PORT}"]
        """

    private func issues(_ text: String) -> [ConfigIssue] {
        switch loader.parse(text: text) {
        case .success: return []
        case .failure(let error): return error.issues
        }
    }

    private func assertIssue(
        _ text: String, path: String, contains fragment: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        let found = issues(text)
        XCTAssertTrue(
            found.contains { $0.path == path && $0.message.contains(fragment) },
            "expected an issue at \(path) containing '\(fragment)', got \(found)", file: file, line: line)
    }

    func testShippedConfigIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("gateway.conf"), encoding: .utf8)
        let config = try ConfigLoader(environment: [:]).parse(text: text).get()
        XCTAssertEqual(config.server.listen, ListenAddress(host: "127.0.0.1", port: 8080))
        XCTAssertEqual(config.wechat.apps.map(\.appid), ["wx0000000000000001"])
        XCTAssertEqual(config.wechat.apps.first?.secret, "dev-secret")
        XCTAssertEqual(config.tokens.accessTTL, .seconds(900))
        XCTAssertEqual(config.routes.first?.prefix, "/api/")
        XCTAssertEqual(config.server.maxBodyBytes.bytes, 10 << 20)
    }

    func testMinimalConfigGetsDefaults() throws {
        let config = try loader.parse(text: minimal).get()
        XCTAssertEqual(config.server.adminListen, ListenAddress(host: "127.0.0.1", port: 9901))
        XCTAssertEqual(config.server.clientTimeout, .seconds(30))
        XCTAssertEqual(config.tokens.algorithm, .hs256)
        XCTAssertEqual(config.store.url, "sqlite://gateway.db")
        XCTAssertEqual(config.identity.openidHeader, "X-OpenId")
        XCTAssertEqual(config.routes.first?.auth, .required)
        XCTAssertEqual(config.routes.first?.upstreams.first?.authority, "127.0.0.1:9009")
        XCTAssertEqual(config.routes.first?.timeout, .seconds(30))
    }

    func testUnknownKeysAreErrors() {
        assertIssue(minimal + "\nstrip_prefx = true", path: "routes[0].strip_prefx", contains: "unknown key")
        assertIssue("[sever]\n" + minimal, path: "sever", contains: "unknown key")
    }

    func testWrongTypesNameTheExpectedType() {
        assertIssue(
            minimal + "\nstrip_prefix = \"yes\"", path: "routes[0].strip_prefix", contains: "expected true or false")
        assertIssue(
            "[server]\nmax_header_bytes = \"big\"\n" + minimal, path: "server.max_header_bytes",
            contains: "expected an integer")
    }

    func testBadURLsAndAddressesNameTheElement() {
        let text = minimal.replacingOccurrences(
            of: "upstreams = [\"http://127.0.0.1:${UPSTREAM_PORT}\"]",
            with: "upstreams = [\"http://ok:1\", \"htp://bad\"]")
        assertIssue(text, path: "routes[0].upstreams[1]", contains: "not an upstream URL")
        assertIssue(
            "[server]\nlisten = \"localhost\"\n" + minimal, path: "server.listen", contains: "not a listen address")
    }

    func testShortHS256SecretIsAnError() {
        let text = minimal.replacingOccurrences(of: "0123456789abcdef0123456789abcdef", with: "short")
        assertIssue(text, path: "tokens.secret", contains: "at least 32 bytes")
    }

    func testRouteWithoutUpstreamsIsAnError() {
        assertIssue(minimal + "\n[[routes]]\nprefix = \"/b/\"", path: "routes[1].upstreams", contains: "is required")
        assertIssue(
            minimal + "\n[[routes]]\nprefix = \"/b/\"\nupstreams = []", path: "routes[1].upstreams",
            contains: "at least one")
    }

    func testDuplicatePrefixesAreAnError() {
        let route = "\n[[routes]]\nprefix = \"/api/\"\nupstreams = [\"http://127.0.0.1:1\"]"
        assertIssue(minimal + route, path: "routes[1].prefix", contains: "duplicates routes[0]")
        let narrowed =
            "\n[[routes]]\nprefix = \"/api/\"\nhost = \"other.example\"\nupstreams = [\"http://127.0.0.1:1\"]"
        XCTAssertEqual(issues(minimal + narrowed), [])
    }

    func testUnknownAuthModeIsAnError() {
        assertIssue(minimal + "\nauth = \"sometimes\"", path: "routes[0].auth", contains: "not an auth mode")
    }

    func testUnsetVariableWithoutDefaultIsAnError() {
        let text = minimal.replacingOccurrences(of: "secret = \"s\"", with: "secret = \"${WECHAT_SECRET_UNSET}\"")
        assertIssue(text, path: "wechat.apps[0].secret", contains: "WECHAT_SECRET_UNSET is not set")
    }

    func testBadDurationsAndSizesAreErrors() {
        assertIssue(
            "[server]\nclient_timeout = \"30\"\n" + minimal, path: "server.client_timeout", contains: "not a duration")
        assertIssue(
            "[server]\nmax_body_bytes = \"10 MiB\"\n" + minimal, path: "server.max_body_bytes", contains: "not a size")
        assertIssue(minimal + "\ntimeout = \"5 minutes\"", path: "routes[0].timeout", contains: "not a duration")
    }

    func testEveryErrorIsReportedNotJustTheFirst() {
        let text = "[server]\nlisten = \"nope\"\n" + minimal + "\nauth = \"maybe\"\nretries = 3"
        let paths = Set(issues(text).map(\.path))
        XCTAssertTrue(paths.isSuperset(of: ["server.listen", "routes[0].auth", "routes[0].retries"]), "\(paths)")
    }

    func testSyntaxErrorCarriesTheLine() throws {
        let found = issues("[server]\nlisten = \"127.0.0.1:8080\"\nbroken = = 1\n")
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first?.line, 3)
        XCTAssertTrue(found.first?.message.contains("TOML syntax error") ?? false)
    }

    func testMissingAppsAndSameListenersAreErrors() {
        assertIssue(
            "[tokens]\nsecret = \"0123456789abcdef0123456789abcdef\"", path: "wechat.apps", contains: "at least one")
        assertIssue(
            "[server]\nlisten = \"127.0.0.1:1\"\nadmin_listen = \"127.0.0.1:1\"\n" + minimal,
            path: "server.admin_listen", contains: "must differ")
    }

    func testRoutesUnderGatewayEndpointsAreRejected() {
        let route = "\n[[routes]]\nprefix = \"/auth/\"\nupstreams = [\"http://127.0.0.1:1\"]"
        assertIssue(minimal + route, path: "routes[1].prefix", contains: "shadowed")
    }

    func testAsymmetricAlgorithmNeedsAKeyFile() {
        let text = minimal.replacingOccurrences(of: "[tokens]", with: "[tokens]\nalgorithm = \"ES256\"")
        assertIssue(text, path: "tokens.secret", contains: "only used with HS256")
        assertIssue(text, path: "tokens.private_key", contains: "is required with ES256")
    }

    func testMissingFilesAreReportedWhenLoadingFromDisk() throws {
        let text =
            "[server]\ntls_certificate = \"/nonexistent/cert.pem\"\ntls_private_key = \"/nonexistent/key.pem\"\n"
            + minimal
        guard case .failure(let error) = loader.parse(text: text, checkFiles: true) else {
            return XCTFail("expected failure")
        }
        XCTAssertEqual(Set(error.issues.map(\.path)), ["server.tls_certificate", "server.tls_private_key"])
    }

    func testSecretsAreRedactedFromDescriptions() throws {
        let config = try loader.parse(text: minimal).get()
        XCTAssertFalse(String(describing: config.wechat.apps).contains("secret: s)"))
        XCTAssertFalse(String(describing: config.tokens.signingKey).contains("0123456789abcdef"))
        var store = StoreConfig()
        store.url = "postgres://user:hunter2@db:5432/gw"
        XCTAssertEqual(store.description, "postgres://user:<redacted>@db:5432/gw")
    }
}

extension ConfigLoaderTests {
    func testPasswordsInRejectedURLsAreNotEchoed() {
        let upstream = minimal.replacingOccurrences(
            of: "upstreams = [\"http://127.0.0.1:${UPSTREAM_PORT}\"]",
            with: "upstreams = [\"http://admin:hunter2@legacy\"]")
        let store = minimal + "\n[store]\nurl = \"mysql://root:hunter2@db/gw\""
        let api = minimal.replacingOccurrences(of: "[wechat]", with: "[wechat]\napi_base = \"ftp://u:hunter2@x\"")
        for text in [upstream, store, api] {
            guard case .failure(let error) = loader.parse(text: text) else { return XCTFail("expected an error") }
            XCTAssertFalse(error.description.contains("hunter2"), error.description)
            XCTAssertTrue(error.description.contains("<redacted>"), error.description)
        }
    }
}

extension ConfigLoaderTests {
    func testPostgresStoreSettingsAreRead() throws {
        let text =
            minimal + """

                [store]
                url = "postgres://gw:p%40ss@db:5432/gateway?sslmode=verify-full"
                pool_size = 16
                timeout = "1500ms"
                ca_file = "/etc/gateway/db-ca.pem"
                """
        let config = try loader.parse(text: text).get()
        XCTAssertEqual(config.store.poolSize, 16)
        XCTAssertEqual(config.store.timeout, .milliseconds(1500))
        XCTAssertEqual(config.store.options.caFile, "/etc/gateway/db-ca.pem")
        XCTAssertEqual(config.store.description, "postgres://gw:<redacted>@db:5432/gateway?sslmode=verify-full")
    }

    func testBadStoreSettingsNameTheirKey() {
        let cases: [(String, String)] = [
            ("url = \"postgres://db/gw?sslmode=sometimes\"", "store.url"),
            ("url = \"postgres://db/gw\"\npool_size = 0", "store.pool_size"),
            ("url = \"postgres://db/gw\"\ntimeout = \"0\"", "store.timeout"),
            ("url = \"sqlite://gateway.db\"\nca_file = \"/ca.pem\"", "store.ca_file"),
            ("url = \"sqlite::memory:\"", "store.url"),
            ("url = \"postgres://db/gw?sslmode=prefer\"\nca_file = \"/ca.pem\"", "store.url"),
            ("url = \"postgres://db/gw?sslmode=allow\"\nca_file = \"/ca.pem\"", "store.url"),
            ("url = \"postgres://db/gw?sslmode=verify_full\"", "store.url"),
        ]
        for (body, path) in cases {
            guard case .failure(let error) = loader.parse(text: minimal + "\n[store]\n" + body) else {
                XCTFail("accepted: \(body)")
                continue
            }
            XCTAssertEqual(error.issues.map(\.path), [path], body)
        }
    }

    func testStoreChangesNeedARestart() throws {
        let old = try loader.parse(text: minimal).get()
        var new = old
        new.store.poolSize = 32
        XCTAssertEqual(RestartRequiredChanges(old: old, new: new).keys, ["store.pool_size"])
    }
}
