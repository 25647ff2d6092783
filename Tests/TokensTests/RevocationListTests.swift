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

    /// An empty list answers without its lock: emptied by a purge, it must still see the next revocation.
    func testAListEmptiedByAPurgeSeesTheNextRevocation() {
        let list = RevocationList()
        list.revoke(jti: "ended", until: now, now: now)
        XCTAssertFalse(list.isRevoked("ended", now: now.addingTimeInterval(-1)), "an ended revocation is not kept")
        list.revoke(jti: "a", until: now.addingTimeInterval(60), now: now)
        list.purge(now: now.addingTimeInterval(60))
        XCTAssertEqual(list.count, 0)
        XCTAssertFalse(list.isRevoked("a", now: now))
        list.revoke(jti: "b", until: now.addingTimeInterval(60), now: now)
        XCTAssertTrue(list.isRevoked("b", now: now))
        XCTAssertFalse(list.isRevoked("a", now: now))
    }

    /// Revocations made on other threads are seen once they returned, and never a lookup of one still in the list
    /// is missed while other ids come and go.
    func testRevocationsFromOtherThreadsAreSeenOnceMade() {
        let list = RevocationList()
        let now = self.now
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for index in 0..<200 {
                let id = "w\(worker)-\(index)"
                list.revoke(jti: id, until: now.addingTimeInterval(60), now: now)
                XCTAssertTrue(list.isRevoked(id, now: now), id)
                XCTAssertTrue(list.isRevoked("w\(worker)-0", now: now))
            }
        }
        XCTAssertEqual(list.count, 800)
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
