import XCTest

@testable import GatewayCore

/// `AccessLogEntry.roundedMicroseconds` replaces `Int((seconds * 1000 * 1000).rounded()).magnitude` (a libm `round`
/// call per duration) with truncation and a comparison: it must give the same count for every duration the line
/// writes (`0..<1e9` seconds, -0 included), above all where the scaled value is exactly half a microsecond or lies
/// an ulp either side of one.
final class AccessLogMillisecondsTests: XCTestCase {
    private static func reference(_ seconds: Double) -> UInt {
        Int((seconds * 1000 * 1000).rounded()).magnitude
    }

    private func assertSameAsRounded(_ seconds: Double, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(
            AccessLogEntry.roundedMicroseconds(seconds), Self.reference(seconds), "seconds \(seconds)", file: file,
            line: line)
    }

    /// `seconds` and the 8 Doubles either side of it, inside the range the line writes.
    private func neighbourhood(_ seconds: Double) -> [Double] {
        var values = [seconds]
        var up = seconds
        var down = seconds
        for _ in 0..<8 {
            up = up.nextUp
            down = down.nextDown
            values += [up, down]
        }
        return values.filter { $0 >= 0 && $0 < 1e9 }
    }

    func testEdgesOfTheRange() {
        let values: [Double] = [
            0, -0.0, .leastNonzeroMagnitude, .leastNormalMagnitude, 0.000_000_5, 0.000_000_499_999_999_999_999_94,
            0.5e-6.nextDown, 0.5e-6.nextUp, 1e-6, 1.5e-6, 2.5e-6, 0.001, 0.5, 1, 86_400, 999_999_999.999_999_5,
            1e9.nextDown,
        ]
        for value in values.flatMap(neighbourhood) {
            assertSameAsRounded(value)
        }
    }

    func testExactHalvesAndTheirNeighboursRoundAsRoundedDoes() {
        // Durations whose scaled value is exactly k + 0.5: the tie `rounded()` breaks away from zero.
        var ties = 0
        var counts = Array(0..<2_000) + (0..<40).map { 1 << $0 }
        counts += [999_999, 1_000_000, 123_456_789, 999_999_999_999, 999_999_999_999_999]
        for count in counts {
            for seconds in neighbourhood((Double(count) + 0.5) / 1_000_000) {
                let scaled = seconds * 1000 * 1000
                if scaled.rounded(.down) + 0.5 == scaled { ties += 1 }
                assertSameAsRounded(seconds)
            }
        }
        XCTAssertGreaterThan(ties, 1_000, "the values include exact halves")
    }

    func testRandomDurationsAcrossTheRange() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200_000 {
            let byMagnitude = pow(10, Double.random(in: -9...9, using: &generator))
            let uniform = Double.random(in: 0..<1e9, using: &generator)
            for seconds in [byMagnitude, uniform] where seconds < 1e9 {
                assertSameAsRounded(seconds)
            }
        }
    }
}
