import XCTest

@testable import GatewayCore

final class RateLimiterTests: XCTestCase {
    func testFourthQuickRequestFromOneAddressWaits() {
        let limiter = RateLimiter(requestsPerMinute: 6, burst: 3)
        for _ in 0..<3 { XCTAssertNil(limiter.check("203.0.113.1", now: 1)) }
        XCTAssertEqual(limiter.check("203.0.113.1", now: 1), 10)
    }

    func testOtherAddressesKeepTheirOwnBucket() {
        let limiter = RateLimiter(requestsPerMinute: 6, burst: 1)
        XCTAssertNil(limiter.check("203.0.113.1", now: 1))
        XCTAssertEqual(limiter.check("203.0.113.1", now: 1), 10)
        XCTAssertNil(limiter.check("203.0.113.2", now: 1))
        XCTAssertNil(limiter.check("2001:db8::1", now: 1))
    }

    func testAWaitingClientIsLetInAfterRetryAfter() {
        let limiter = RateLimiter(requestsPerMinute: 60, burst: 1)
        XCTAssertNil(limiter.check("a", now: 5))
        let wait = limiter.check("a", now: 5)
        XCTAssertEqual(wait, 1)
        XCTAssertNil(limiter.check("a", now: 5 + Double(wait ?? 0)))
    }

    func testRetryAfterIsAtLeastOneSecond() {
        let limiter = RateLimiter(requestsPerMinute: 1_000_000, burst: 1)
        XCTAssertNil(limiter.check("a", now: 0))
        // The next token is 60 µs away: Retry-After is whole seconds, and 0 would invite an immediate retry.
        XCTAssertEqual(limiter.check("a", now: 0), 1)
    }

    func testSweepingIdleAddressesForgetsNothingThatIsStillLimited() {
        let limiter = RateLimiter(requestsPerMinute: 1, burst: 1)
        XCTAssertNil(limiter.check("busy", now: 100))
        XCTAssertNil(limiter.check("idle", now: 100))
        // 61 s later a sweep runs: "idle" is full again and forgotten, "busy" spent again stays limited.
        XCTAssertNil(limiter.check("busy", now: 161))
        XCTAssertEqual(limiter.check("busy", now: 162), 59)
        XCTAssertNil(limiter.check("idle", now: 162))
    }
}
