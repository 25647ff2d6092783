import Foundation
import XCTest

@testable import Tokens

/// The claims are one reference to shared storage: copies must still behave as independent values.
final class VerifiedClaimsTests: XCTestCase {
    private let claims = VerifiedClaims(
        subject: "o-user-1", appid: "wx1", jti: "jti-1", issuer: "iss", audience: "aud",
        expiresAt: Date(timeIntervalSince1970: 1_700_000_000), keyID: "k1", sessionID: "s1")

    func testASetterChangesOnlyItsOwnCopy() {
        var copy = claims
        copy.subject = "o-user-2"
        copy.unionid = "u"
        copy.appKind = .website
        XCTAssertEqual(claims.subject, "o-user-1")
        XCTAssertNil(claims.unionid)
        XCTAssertEqual(claims.appKind, .miniprogram)
        XCTAssertEqual(copy.subject, "o-user-2")
        XCTAssertEqual(copy.unionid, "u")
        XCTAssertEqual(copy.appKind, .website)
        XCTAssertEqual(copy.jti, "jti-1", "the other fields are kept")
    }

    func testEqualityAndHashingFollowTheFields() {
        let same = VerifiedClaims(
            subject: "o-user-1", appid: "wx1", jti: "jti-1", issuer: "iss", audience: "aud",
            expiresAt: Date(timeIntervalSince1970: 1_700_000_000), keyID: "k1", sessionID: "s1")
        XCTAssertEqual(claims, same)
        XCTAssertEqual(Set([claims, same]).count, 1)
        var other = same
        other.issuedAt = Date(timeIntervalSince1970: 1)
        XCTAssertNotEqual(claims, other)
        other.issuedAt = nil
        XCTAssertEqual(claims, other, "back to equal fields, equal again")
    }

    /// Logs and test failures show the claims as the struct of fields printed them.
    func testDescriptionListsTheFields() {
        XCTAssertEqual(
            String(describing: claims),
            #"VerifiedClaims(subject: "o-user-1", appid: Optional("wx1"), unionid: nil, jti: Optional("jti-1"), "#
                + #"issuer: "iss", audience: "aud", expiresAt: 2023-11-14 22:13:20 +0000, issuedAt: nil, "#
                + #"keyID: "k1", sessionID: Optional("s1"), appKind: Tokens.AppKind.miniprogram)"#)
    }
}
