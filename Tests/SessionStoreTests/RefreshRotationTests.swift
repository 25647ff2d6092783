import Foundation
import SessionStore
import XCTest

final class RefreshRotationTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func family(expiresIn: TimeInterval = 3600, revoked: Bool = false) -> SessionRecord {
        SessionRecord(
            familyID: "fam", openid: "o1", unionid: nil, appid: "wx1", sessionKey: "k",
            createdAt: now.addingTimeInterval(-60), expiresAt: now.addingTimeInterval(expiresIn),
            revokedAt: revoked ? now.addingTimeInterval(-1) : nil
        )
    }

    private func token(
        expiresIn: TimeInterval = 3600, spent: Bool = false, familyID: String = "fam"
    )
        -> RefreshTokenRecord
    {
        RefreshTokenRecord(
            hash: "h", familyID: familyID, issuedAt: now.addingTimeInterval(-60),
            expiresAt: now.addingTimeInterval(expiresIn), spentAt: spent ? now.addingTimeInterval(-30) : nil
        )
    }

    func testFreshTokenOfLiveFamilyRotates() {
        XCTAssertEqual(RefreshRotation.spend(token: token(), family: family(), now: now), .rotated(family()))
    }

    func testSpentTokenOfLiveFamilyIsReuse() {
        XCTAssertEqual(
            RefreshRotation.spend(token: token(spent: true), family: family(), now: now), .reused(familyID: "fam")
        )
    }

    func testSpentAndExpiredTokenOfLiveFamilyIsStillReuse() {
        // The thief may hold the successor; an expired replay is as much evidence of theft.
        XCTAssertEqual(
            RefreshRotation.spend(token: token(expiresIn: -1, spent: true), family: family(), now: now),
            .reused(familyID: "fam")
        )
    }

    func testUnspentExpiredTokenIsExpired() {
        XCTAssertEqual(RefreshRotation.spend(token: token(expiresIn: -1), family: family(), now: now), .expired)
    }

    func testTokenExpiringExactlyNowIsExpired() {
        XCTAssertEqual(RefreshRotation.spend(token: token(expiresIn: 0), family: family(), now: now), .expired)
    }

    func testExpiredFamilyIsExpiredEvenForSpentToken() {
        XCTAssertEqual(
            RefreshRotation.spend(token: token(spent: true), family: family(expiresIn: 0), now: now), .expired
        )
        XCTAssertEqual(RefreshRotation.spend(token: token(), family: family(expiresIn: -5), now: now), .expired)
    }

    func testRevokedFamilyRefusesUnspentTokens() {
        XCTAssertEqual(RefreshRotation.spend(token: token(), family: family(revoked: true), now: now), .revoked)
        XCTAssertEqual(
            RefreshRotation.spend(token: token(), family: family(expiresIn: -1, revoked: true), now: now), .revoked
        )
    }

    func testSpentTokenOfRevokedFamilyIsStillReuse() {
        // Every replay is reported as theft; revoking an already revoked family changes nothing.
        XCTAssertEqual(
            RefreshRotation.spend(token: token(spent: true), family: family(revoked: true), now: now),
            .reused(familyID: "fam")
        )
    }

    func testMissingTokenOrFamilyIsUnknown() {
        XCTAssertEqual(RefreshRotation.spend(token: nil, family: nil, now: now), .unknown)
        XCTAssertEqual(RefreshRotation.spend(token: nil, family: family(), now: now), .unknown)
        XCTAssertEqual(RefreshRotation.spend(token: token(), family: nil, now: now), .unknown)
        XCTAssertEqual(RefreshRotation.spend(token: token(familyID: "other"), family: family(), now: now), .unknown)
    }

    func testSuccessorNeverOutlivesFamily() {
        let family = family(expiresIn: 100)
        XCTAssertEqual(
            RefreshRotation.successorExpiry(requested: now.addingTimeInterval(1000), family: family),
            family.expiresAt
        )
        XCTAssertEqual(
            RefreshRotation.successorExpiry(requested: now.addingTimeInterval(10), family: family),
            now.addingTimeInterval(10)
        )
    }
}
