import XCTest

@testable import Engine

final class MillisecondsMemoTests: XCTestCase {
    func testConversionTruncatesToWholeMilliseconds() {
        XCTAssertEqual(MillisecondsMemo.convert(.seconds(30)), 30_000)
        XCTAssertEqual(MillisecondsMemo.convert(.milliseconds(1500)), 1500)
        XCTAssertEqual(MillisecondsMemo.convert(.microseconds(1999)), 1)
        XCTAssertEqual(MillisecondsMemo.convert(.zero), 0)
    }

    func testRememberedAnswersAreTheConversionsEvenPastItsCapacity() {
        var memo = MillisecondsMemo()
        // Twenty distinct timeouts, each asked three times, interleaved: every answer is its own conversion, whether
        // remembered, forgotten to make room, or converted again.
        let durations = (1...20).map { Duration.milliseconds($0 * 250) + .microseconds($0) }
        for round in 0..<3 {
            for (index, duration) in durations.enumerated() where (index + round) % 2 == 0 || round == 1 {
                XCTAssertEqual(memo.of(duration), MillisecondsMemo.convert(duration), "\(duration)")
            }
        }
        XCTAssertEqual(memo.of(.seconds(5)), 5000)
        XCTAssertEqual(memo.of(.seconds(5)), 5000)
    }
}
