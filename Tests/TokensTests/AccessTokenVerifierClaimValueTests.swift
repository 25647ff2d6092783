import Foundation
import XCTest

@testable import Tokens

/// Claims that parse and are signed, but whose values the gateway must never act on: identity values that
/// could not be header values upstream, and NumericDates that are not finite or not a plausible time.
final class AccessTokenVerifierClaimValueTests: XCTestCase {
    typealias F = TokenFixtures
    var verifier: AccessTokenVerifier!

    override func setUpWithError() throws {
        verifier = F.verifier(try KeyRing(current: F.hmacKey()))
    }

    /// A signed HS256 token whose claims set is `payload` as written (JSONSerialization cannot write `1e400`).
    private func token(payload: String) -> String {
        F.token(header: F.header(alg: "HS256", kid: "hs-1"), payload: payload, sign: F.hmacSigner(F.secret))
    }

    /// The default claims with `member` (already JSON: `"exp":1e400`) replacing the one of the same name.
    private func token(replacing name: String, with member: String) -> String {
        let base = F.claims(removing: [name])
        return token(payload: "{" + member + "," + base.dropFirst())
    }

    func testIdentityClaimsThatCouldNotBeHeaderValuesAreRejected() {
        // sub, appid and unionid become X-OpenId, X-AppId and X-UnionId lines upstream; libcurl writes them as given.
        let values = [
            "alice\r\nX-Admin: 1", "alice\n", "al\rice", "a\tb", "a\u{7F}", "a\u{0}b", "a\u{1B}[0m", " alice", "alice ",
        ]
        for name in ["sub", "appid", "unionid"] {
            for value in values {
                XCTAssertRejected(
                    verifier.verify(F.hs256Token([name: value]), now: F.now), .invalidClaim(name),
                    "\(name)=\(value.debugDescription)")
            }
        }
    }

    func testOrdinaryIdentityValuesStillVerify() {
        let token = F.hs256Token([
            "sub": "oAbC-_123=", "unionid": "o6_bmasdasdsad6_2sgVt7hMZOPfL", "appid": "wx1234567890abcdef",
        ])
        let claims = verifier.verify(token, now: F.now).claims
        XCTAssertEqual(claims?.subject, "oAbC-_123=")
        XCTAssertEqual(claims?.unionid, "o6_bmasdasdsad6_2sgVt7hMZOPfL")
        XCTAssertEqual(claims?.appid, "wx1234567890abcdef")
    }

    func testNonFiniteNumericDatesAreRejected() {
        // 1e400 parses as infinity: an exp of infinity would never expire.
        XCTAssertRejected(
            verifier.verify(token(replacing: "exp", with: "\"exp\":1e400"), now: F.now), .invalidClaim("exp"))
        XCTAssertRejected(
            verifier.verify(token(replacing: "iat", with: "\"iat\":-1e400"), now: F.now), .invalidClaim("iat"))
        XCTAssertRejected(
            verifier.verify(token(replacing: "nbf", with: "\"nbf\":-1e999"), now: F.now), .invalidClaim("nbf"))
    }

    func testOutOfRangeNumericDatesAreRejected() {
        for (name, value) in [
            ("exp", "1e15"), ("exp", "-1"), ("exp", "253402300800"), ("iat", "-1700000000"), ("iat", "1e300"),
            ("nbf", "-0.5"), ("nbf", "9007199254740993"),
        ] {
            XCTAssertRejected(
                verifier.verify(token(replacing: name, with: "\"\(name)\":\(value)"), now: F.now), .invalidClaim(name),
                "\(name)=\(value)")
        }
    }

    func testLargestPlausibleExpiryStillVerifies() {
        // 9999-12-31T23:59:59Z, the last second RFC 3339 can write: far, but a time.
        XCTAssertEqual(
            verifier.verify(token(replacing: "exp", with: "\"exp\":253402300799"), now: F.now).claims?.expiresAt,
            Date(timeIntervalSince1970: 253_402_300_799))
        XCTAssertEqual(
            verifier.verify(token(replacing: "nbf", with: "\"nbf\":0"), now: F.now).claims?.subject, "o-user-1")
    }
}
