import Foundation
import XCTest

@testable import Tokens

/// The claims are one reference to shared storage: equality, hashing and printing still follow the fields.
final class VerifiedClaimsTests: XCTestCase {
    private let claims = VerifiedClaims(
        subject: "o-user-1", appid: "wx1", jti: "jti-1", issuer: "iss", audience: "aud",
        expiresAt: Date(timeIntervalSince1970: 1_700_000_000), keyID: "k1", sessionID: "s1")

    func testEqualityAndHashingFollowTheFields() {
        let same = VerifiedClaims(
            subject: "o-user-1", appid: "wx1", jti: "jti-1", issuer: "iss", audience: "aud",
            expiresAt: Date(timeIntervalSince1970: 1_700_000_000), keyID: "k1", sessionID: "s1")
        XCTAssertEqual(claims, same)
        XCTAssertEqual(Set([claims, same]).count, 1)
        let other = VerifiedClaims(
            subject: "o-user-1", appid: "wx1", jti: "jti-1", issuer: "iss", audience: "aud",
            expiresAt: Date(timeIntervalSince1970: 1_700_000_000), issuedAt: Date(timeIntervalSince1970: 1),
            keyID: "k1", sessionID: "s1")
        XCTAssertNotEqual(claims, other, "one field apart")
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
