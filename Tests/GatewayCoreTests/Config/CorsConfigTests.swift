import XCTest

@testable import GatewayCore

/// `[cors]` as gateway.conf says it: defaults, the lists, and every mistake reported with its key path.
final class CorsConfigTests: XCTestCase {
    private func parse(_ cors: String?) -> Result<GatewayConfiguration, ConfigError> {
        ConfigLoader(environment: [:]).parse(
            text: """
                [[wechat.apps]]
                appid = "wx0000000000000001"
                secret = "s"
                [tokens]
                secret = "0123456789abcdef0123456789abcdef"
                """ + (cors.map { "\n[cors]\n\($0)\n" } ?? ""))
    }

    private func issues(_ cors: String) -> [ConfigIssue] {
        guard case .failure(let error) = parse(cors) else { return [] }
        return error.issues
    }

    func testWithoutTheSectionCorsIsOff() throws {
        XCTAssertNil(try parse(nil).get().cors)
    }

    func testDefaults() throws {
        let cors = try XCTUnwrap(try parse("allow_origins = [\"https://h5.example.com\"]").get().cors)
        XCTAssertEqual(cors.allowOrigins, ["https://h5.example.com"])
        XCTAssertEqual(cors.allowHeaders, ["Authorization", "Content-Type", "X-Request-Id"])
        XCTAssertEqual(cors.exposeHeaders, ["X-Request-Id", "X-Gateway-Error", "Retry-After", "WWW-Authenticate"])
        XCTAssertEqual(cors.maxAge, .seconds(600))
        XCTAssertFalse(cors.allowCredentials)
        XCTAssertFalse(cors.checkWebSocketOrigin)
    }

    func testListsKeepWhatTheGatewayNeedsAndAddTheConfiguredNames() throws {
        let cors = try XCTUnwrap(
            try parse(
                """
                allow_origins = ["https://H5.example.com:443", "https://h5.example.com", "http://localhost:5173"]
                allow_headers = ["x-trace", "authorization"]
                expose_headers = ["X-Total-Count"]
                allow_methods = ["GET", "POST"]
                max_age = "2h"
                allow_credentials = true
                check_websocket_origin = true
                """
            ).get().cors)
        XCTAssertEqual(cors.allowOrigins, ["https://h5.example.com", "http://localhost:5173"])
        XCTAssertEqual(cors.allowHeaders, ["Authorization", "Content-Type", "x-trace"])
        XCTAssertEqual(cors.exposeHeaders.last, "X-Total-Count")
        XCTAssertEqual(cors.allowMethods, ["GET", "POST"])
        XCTAssertEqual(cors.maxAge, .seconds(7200))
        XCTAssertTrue(cors.allowCredentials)
        XCTAssertTrue(cors.checkWebSocketOrigin)
    }

    func testEmptyOriginListIsAllowed() throws {
        XCTAssertEqual(try parse("allow_origins = []").get().cors?.allowOrigins, [])
    }

    func testMistakesNameTheirKeyPath() {
        let found = issues(
            """
            allow_origins = ["*", "https://ok.example.com", "null", "example.com"]
            allow_headers = ["*"]
            expose_headers = ["a b"]
            allow_methods = ["GE T"]
            max_age = "25h"
            colour = "blue"
            """)
        let paths = found.map(\.path)
        for path in [
            "cors.allow_origins[0]", "cors.allow_origins[2]", "cors.allow_origins[3]", "cors.allow_headers[0]",
            "cors.expose_headers[0]", "cors.allow_methods[0]", "cors.max_age", "cors.colour",
        ] {
            XCTAssertTrue(paths.contains(path), "\(path) missing in \(found)")
        }
        XCTAssertFalse(paths.contains("cors.allow_origins[1]"))
        XCTAssertTrue(found.first { $0.path == "cors.allow_origins[0]" }?.message.contains("credentialed") ?? false)
    }

    func testOriginsAreRequiredAndMaxAgeIsWholeSeconds() {
        XCTAssertTrue(issues("max_age = \"10m\"").contains { $0.path == "cors.allow_origins" })
        XCTAssertTrue(
            issues("allow_origins = []\nmax_age = \"1500ms\"").contains {
                $0.path == "cors.max_age" && $0.message.contains("whole seconds")
            })
        XCTAssertTrue(issues("allow_origins = \"https://h5.example.com\"").contains { $0.path == "cors.allow_origins" })
    }
}
