import Foundation
import NIOConcurrencyHelpers
import XCTest

@testable import Tokens

final class RevocationListTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func testRevokedUntilItsExpiry() {
        let list = RevocationList()
        XCTAssertFalse(list.isRevoked("a", now: now))
        list.revoke(jti: "a", until: now.addingTimeInterval(60), now: now)
        XCTAssertTrue(list.isRevoked("a", now: now.addingTimeInterval(59)))
        XCTAssertFalse(list.isRevoked("a", now: now.addingTimeInterval(60)))
        XCTAssertFalse(list.isRevoked("b", now: now))
    }

    func testRevokingTwiceKeepsTheLaterExpiry() {
        let list = RevocationList()
        list.revoke(jti: "a", until: now.addingTimeInterval(60), now: now)
        list.revoke(jti: "a", until: now.addingTimeInterval(10), now: now)
        XCTAssertTrue(list.isRevoked("a", now: now.addingTimeInterval(30)))
    }

    func testPurgeForgetsExpiredEntries() {
        let list = RevocationList()
        list.revoke(jti: "old", until: now.addingTimeInterval(10), now: now)
        list.revoke(jti: "live", until: now.addingTimeInterval(100), now: now)
        list.purge(now: now.addingTimeInterval(50))
        XCTAssertEqual(list.count, 1)
        XCTAssertTrue(list.isRevoked("live", now: now.addingTimeInterval(50)))
    }

    func testGrowthPurgesExpiredEntries() {
        let list = RevocationList()
        for index in 0..<1023 {
            list.revoke(jti: "old-\(index)", until: now.addingTimeInterval(10), now: now)
        }
        list.revoke(jti: "live", until: now.addingTimeInterval(1000), now: now.addingTimeInterval(20))
        XCTAssertEqual(list.count, 1)
    }
}

extension RevocationListTests {
    func testAnEndedRevocationIsNotKeptButItsObserversHearOfIt() {
        let list = RevocationList()
        let heard = NIOLockedValueBox<[String]>([])
        list.addObserver { key in heard.withLockedValue { $0.append(key) } }
        list.revoke(jti: "sid:ended", until: now.addingTimeInterval(-1), now: now)
        XCTAssertEqual(list.count, 0)
        XCTAssertFalse(list.isRevoked("sid:ended", now: now.addingTimeInterval(-2)))
        XCTAssertEqual(heard.withLockedValue { $0 }, ["sid:ended"])
    }
}
