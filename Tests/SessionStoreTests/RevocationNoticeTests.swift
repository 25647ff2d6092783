import Foundation
import XCTest

@testable import SessionStore

final class RevocationNoticeTests: XCTestCase {
    func testPayloadRoundTripsJTIsWithSpaces() {
        let expiry = Date(timeIntervalSince1970: 1_800_000_000.123)
        let payload = RevocationNotice.payload(jti: "sid: a b", expiresAt: expiry)
        XCTAssertEqual(payload, "1800000000123 sid: a b")
        XCTAssertEqual(
            RevocationNotice(payload: payload),
            .revoked(RevokedAccessToken(jti: "sid: a b", expiresAt: Date(timeIntervalSince1970: 1_800_000_000.123))))
    }

    func testAJTITooLongForANotificationAsksForAReload() {
        let payload = RevocationNotice.payload(jti: String(repeating: "j", count: 5000), expiresAt: Date())
        XCTAssertEqual(payload, "*")
        XCTAssertEqual(RevocationNotice(payload: payload), .reloadAll)
    }

    func testPayloadsThisBuildCannotReadAreIgnored() {
        for payload in ["", "123", "abc def", "123 ", " jti"] {
            XCTAssertNil(RevocationNotice(payload: payload), payload)
        }
    }
}
