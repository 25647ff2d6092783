import XCTest

@testable import GatewayCore

/// `[tracing]` (issue 25 item 1).
final class TracingConfigTests: XCTestCase {
    private func load(_ tracing: String) -> Result<GatewayConfiguration, ConfigError> {
        ConfigLoader(environment: [:]).parse(
            text: """
                [server]
                listen = "127.0.0.1:8080"

                [wechat]
                [[wechat.apps]]
                appid = "wx0000000000000001"
                secret = "s"

                [tokens]
                secret = "0123456789abcdef0123456789abcdef"

                [tracing]
                \(tracing)
                """)
    }

    private func issues(_ tracing: String) -> [String] {
        switch load(tracing) {
        case .success: return []
        case .failure(let error): return error.issues.map(\.path)
        }
    }

    func testDefaultsExportNothing() throws {
        let config = try load("").get().tracing
        XCTAssertNil(config.endpoint)
        XCTAssertNil(config.tracesURL)
        XCTAssertEqual(config.serviceName, "wechat-gateway")
        XCTAssertEqual(config.sampleRatio, 1)
        XCTAssertFalse(config.includeOpenid)
    }

    func testEveryKeyIsRead() throws {
        let config = try load(
            """
            endpoint = "http://127.0.0.1:4318/"
            service_name = "edge"
            sample_ratio = 0.01
            include_openid = true
            """
        ).get().tracing
        XCTAssertEqual(config.tracesURL, "http://127.0.0.1:4318/v1/traces")
        XCTAssertEqual(config.serviceName, "edge")
        XCTAssertEqual(config.sampleRatio, 0.01)
        XCTAssertTrue(config.includeOpenid)
        XCTAssertEqual(
            try load("endpoint = \"https://otel.example/base\"").get().tracing.tracesURL,
            "https://otel.example/base/v1/traces")
        XCTAssertEqual(try load("sample_ratio = 0").get().tracing.sampleRatio, 0)
    }

    func testBadValuesNameTheirKey() {
        XCTAssertEqual(issues("endpoint = \"collector:4318\""), ["tracing.endpoint"])
        XCTAssertEqual(issues("endpoint = \"unix:/tmp/otel.sock\""), ["tracing.endpoint"])
        XCTAssertEqual(issues("service_name = \"\""), ["tracing.service_name"])
        XCTAssertEqual(issues("sample_ratio = 1.5"), ["tracing.sample_ratio"])
        XCTAssertEqual(issues("sample_ratio = -0.1"), ["tracing.sample_ratio"])
        XCTAssertEqual(issues("sample_ratio = \"all\""), ["tracing.sample_ratio"])
        XCTAssertEqual(issues("include_openid = \"yes\""), ["tracing.include_openid"])
        XCTAssertEqual(issues("exporter = \"grpc\""), ["tracing.exporter"])
    }

    func testAChangeNeedsARestart() throws {
        let old = try load("").get()
        let new = try load("endpoint = \"http://127.0.0.1:4318\"").get()
        XCTAssertEqual(RestartRequiredChanges(old: old, new: new).keys, ["tracing"])
    }
}
