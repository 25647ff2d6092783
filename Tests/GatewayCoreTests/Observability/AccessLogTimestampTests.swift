import Foundation
import JSON
import XCTest

@testable import GatewayCore

final class AccessLogTimestampTests: XCTestCase {
    /// The timestamp as the String-built access log wrote it (`gmtime_r` for every call), the reference the per-thread
    /// cache of the whole second's text must match.
    private static func reference(_ time: Double) -> String {
        ReferenceTimestamp.text(Date(timeIntervalSince1970: time))
    }

    private static func written(_ time: Double) -> String {
        var bytes: [UInt8] = []
        bytes.append(addingCapacity: AccessLogTimestamp.maximumLength) { span in
            span.withUnsafeMutableBufferPointer { space, count in
                var cursor = JSONByteCursor(space)
                AccessLogTimestamp.write(Date(timeIntervalSince1970: time), to: &cursor)
                count = cursor.count
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func assertSequence(_ times: [Double], file: StaticString = #filePath, line: UInt = #line) {
        for time in times {
            XCTAssertEqual(Self.written(time), Self.reference(time), "time \(time)", file: file, line: line)
        }
    }

    func testCachedSecondIsLeftWhenTheSecondChanges() {
        // Same second twice (the cache is used), then the next second, then back: each must be its own second's text.
        assertSequence([
            1_700_000_000.25, 1_700_000_000.999, 1_700_000_001.0, 1_700_000_001.001, 1_700_000_000.5, 1_700_000_002,
        ])
        XCTAssertEqual(Self.written(1_700_000_000.999), "2023-11-14T22:13:20.999Z")
        XCTAssertEqual(Self.written(1_700_000_001.0), "2023-11-14T22:13:21.000Z")
    }

    func testCachedSecondIsLeftAcrossDayAndYearBoundaries() {
        assertSequence([1_704_067_199.999, 1_704_067_200.0, 1_704_067_199.5, 1_709_164_799.9, 1_709_164_800.1, 0])
        XCTAssertEqual(Self.written(1_704_067_199.999), "2023-12-31T23:59:59.999Z")
        XCTAssertEqual(Self.written(1_704_067_200.0), "2024-01-01T00:00:00.000Z")
    }

    func testTimesBefore1970KeepTheirSignedMilliseconds() {
        // time_t truncates toward zero, so -0.25 is second 0 with -250 ms, as the log always wrote it.
        assertSequence([
            -0.25, 0.25, -0.25, -1.005, -1.5, -1.75, -86_400, -2_208_988_800.5, -62_135_596_800.5, -1e15 - 0.5,
        ])
        XCTAssertEqual(Self.written(-0.25), "1970-01-01T00:00:00.-250Z")
        XCTAssertEqual(Self.written(-1.5), "1969-12-31T23:59:59.-500Z")
    }

    func testEveryThreadWritesItsOwnTimes() {
        // Each thread walks its own seconds, so a cache shared between threads would hand one thread another's text.
        let failures = FailureCount()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for step in 0..<2_000 {
                let time = Double(1_600_000_000 + thread * 100_003 + step / 3) + Double(step % 3) * 0.3
                if Self.written(time) != Self.reference(time) { failures.increment() }
            }
        }
        XCTAssertEqual(failures.value, 0)
    }
}

/// Failures counted from several threads.
private final class FailureCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
