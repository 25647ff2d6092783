import XCTest

@testable import GatewayCore

/// `[rate_limit]`, with the per-user `/auth/phone` bucket of issue 22 item 10.
final class RateLimitConfigTests: XCTestCase {
    private func parse(_ rateLimit: String) -> Result<GatewayConfiguration, ConfigError> {
        ConfigLoader(environment: [:]).parse(
            text: """
                [[wechat.apps]]
                appid = "wx0000000000000001"
                secret = "s"
                [tokens]
                secret = "0123456789abcdef0123456789abcdef"
                [rate_limit]
                \(rateLimit)
                """)
    }

    func testPhoneBucketDefaultsAndIsSet() throws {
        let defaults = try parse("").get().rateLimit
        XCTAssertEqual(defaults.phonePerMinute, 10)
        XCTAssertEqual(defaults.phoneBurst, 5)
        let set = try parse("phone_per_minute = 2\nphone_burst = 1").get().rateLimit
        XCTAssertEqual(set.phonePerMinute, 2)
        XCTAssertEqual(set.phoneBurst, 1)
    }

    func testPhoneBucketOutOfRangeNamesTheKey() {
        for (key, value) in [("phone_per_minute", "0"), ("phone_burst", "-1"), ("phone_burst", "1000001")] {
            guard case .failure(let error) = parse("\(key) = \(value)") else {
                XCTFail("\(key) = \(value) was accepted")
                continue
            }
            XCTAssertTrue(
                error.issues.contains { $0.path == "rate_limit.\(key)" && $0.message.contains("between 1 and") },
                "\(error.issues)")
        }
    }
}
