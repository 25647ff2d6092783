import XCTest

@testable import GatewayCore

final class DurationAndSizeTests: XCTestCase {
    func testDurationUnitsParse() {
        XCTAssertEqual(Duration(configText: "250ms"), .milliseconds(250))
        XCTAssertEqual(Duration(configText: "30s"), .seconds(30))
        XCTAssertEqual(Duration(configText: "15m"), .seconds(900))
        XCTAssertEqual(Duration(configText: "2h"), .seconds(7200))
        XCTAssertEqual(Duration(configText: "30d"), .seconds(30 * 86_400))
        XCTAssertEqual(Duration(configText: "1h30m"), .seconds(5400))
        XCTAssertEqual(Duration(configText: "0"), .zero)
    }

    func testDurationRejectsAmbiguousOrMalformedText() {
        for text in ["", "30", "s", "-5s", "1.5h", "30 s", " 30s", "30sec", "10y", "5S", "1e3ms", "30s ", "h1"] {
            XCTAssertNil(Duration(configText: text), "\(text) should be rejected")
        }
    }

    func testDurationMilliseconds() {
        XCTAssertEqual(Duration.milliseconds(1500).milliseconds, 1500)
        XCTAssertEqual(Duration.seconds(2).seconds, 2)
    }

    func testSizeUnitsParse() {
        XCTAssertEqual(ByteSize(configText: "10MiB")?.bytes, 10 * 1024 * 1024)
        XCTAssertEqual(ByteSize(configText: "512KiB")?.bytes, 512 * 1024)
        XCTAssertEqual(ByteSize(configText: "1GiB")?.bytes, 1 << 30)
        XCTAssertEqual(ByteSize(configText: "10MB")?.bytes, 10_000_000)
        XCTAssertEqual(ByteSize(configText: "100B")?.bytes, 100)
        XCTAssertEqual(ByteSize(configText: "4096")?.bytes, 4096)
    }

    func testSizeRejectsMalformedText() {
        for text in ["", "MiB", "10 MiB", "10mib", "1.5MiB", "-1", "10TiB", "99999999999999999999GiB"] {
            XCTAssertNil(ByteSize(configText: text), "\(text) should be rejected")
        }
    }
}
