import XCTest

@testable import GatewayCore

final class TokenBucketTests: XCTestCase {
    /// nil when the take succeeded, else the Retry-After seconds.
    private func take(_ bucket: inout TokenBucket, now: Double) -> Int? {
        switch bucket.take(now: now) {
        case .success: return nil
        case .failure(let wait): return wait.seconds
        }
    }

    func testBurstIsAllowedAtOnceThenTheNextWaits() {
        var bucket = TokenBucket(capacity: 3, ratePerSecond: 0.1, now: 100)
        for _ in 0..<3 { XCTAssertNil(take(&bucket, now: 100)) }
        // Empty at 0.1 tokens/s: one token is 10 s away.
        XCTAssertEqual(take(&bucket, now: 100), 10)
    }

    func testRetryAfterShrinksAsTheBucketRefills() {
        var bucket = TokenBucket(capacity: 1, ratePerSecond: 0.1, now: 0)
        XCTAssertNil(take(&bucket, now: 0))
        XCTAssertEqual(take(&bucket, now: 4), 6)
        // A partial second rounds up, so a client that waits Retry-After is let in.
        XCTAssertEqual(take(&bucket, now: 9.5), 1)
        XCTAssertNil(take(&bucket, now: 10))
    }

    func testRefusedRequestsDoNotSpendTokens() {
        var bucket = TokenBucket(capacity: 1, ratePerSecond: 1, now: 0)
        XCTAssertNil(take(&bucket, now: 0))
        // Half a token is there; the other half is 0.5 s away, rounded up to whole seconds.
        for _ in 0..<5 { XCTAssertEqual(take(&bucket, now: 0.5), 1) }
        XCTAssertNil(take(&bucket, now: 1))
    }

    func testRefillNeverExceedsCapacity() {
        var bucket = TokenBucket(capacity: 2, ratePerSecond: 1, now: 0)
        for _ in 0..<2 { XCTAssertNil(take(&bucket, now: 1_000)) }
        XCTAssertEqual(take(&bucket, now: 1_000), 1)
    }

    func testAClockGoingBackwardsAddsNoTokens() {
        var bucket = TokenBucket(capacity: 1, ratePerSecond: 1, now: 50)
        XCTAssertNil(take(&bucket, now: 50))
        XCTAssertEqual(take(&bucket, now: 10), 1)
        XCTAssertFalse(bucket.isFull(now: 10))
    }

    func testIsFullOnceRefilled() {
        var bucket = TokenBucket(capacity: 2, ratePerSecond: 0.5, now: 0)
        XCTAssertTrue(bucket.isFull(now: 0))
        XCTAssertNil(take(&bucket, now: 0))
        XCTAssertFalse(bucket.isFull(now: 1))
        XCTAssertTrue(bucket.isFull(now: 2))
    }
}
