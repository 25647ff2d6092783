import Foundation
import XCTest

@testable import SessionStore

final class RevocationNoticeTests: XCTestCase {
    func testPayloadKeepsThePreviousReleasesFormat() {
        let expiry = Date(timeIntervalSince1970: 1_800_000_000.123)
        XCTAssertEqual(RevocationNotice.payload(jti: "sid: a b", expiresAt: expiry), "1800000000123 sid: a b")
    }

    func testAJTITooLongForANotificationIsAnnouncedAsAStar() {
        let payload = RevocationNotice.payload(jti: String(repeating: "j", count: 5000), expiresAt: Date())
        XCTAssertEqual(payload, "*")
    }
}
