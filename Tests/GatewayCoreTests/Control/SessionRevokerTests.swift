import Foundation
import XCTest

@testable import GatewayCore

/// How long a session's access tokens stay refused once it ends: the decision, without a store.
final class SessionRevokerTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    func testASessionIsRefusedUntilItsLastAccessTokenWouldHaveExpired() {
        let until = SessionRevoker.sessionRefusedUntil(now: now, accessTTL: 900, leeway: 30, floor: nil)
        XCTAssertEqual(until, now.addingTimeInterval(930))
    }

    func testALaterFloorWins() {
        // A token issued before a reload shortened access_ttl is presented until its own exp plus leeway.
        let floor = now.addingTimeInterval(3600)
        XCTAssertEqual(SessionRevoker.sessionRefusedUntil(now: now, accessTTL: 900, leeway: 30, floor: floor), floor)
    }

    func testAnEarlierFloorDoesNotShortenIt() {
        let floor = now.addingTimeInterval(60)
        let until = SessionRevoker.sessionRefusedUntil(now: now, accessTTL: 900, leeway: 30, floor: floor)
        XCTAssertEqual(until, now.addingTimeInterval(930))
    }
}
