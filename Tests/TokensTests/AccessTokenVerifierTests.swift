import Crypto
import CryptoExtras
import Foundation
import JSON
import XCTest

@testable import Tokens

final class AccessTokenVerifierTests: XCTestCase {
    typealias F = TokenFixtures
    var ring: KeyRing!
    var verifier: AccessTokenVerifier!

    override func setUpWithError() throws {
        ring = try KeyRing(current: F.hmacKey())
        verifier = F.verifier(ring)
    }

    // MARK: valid tokens

    func testValidHS256TokenYieldsItsClaims() throws {
        let result = verifier.verify(F.hs256Token(["unionid": "u-1"]), now: F.now)
        let claims = try XCTUnwrap(result.claims, "\(result)")
        XCTAssertEqual(claims.subject, "o-user-1")
        XCTAssertEqual(claims.appid, "wx0000000000000001")
        XCTAssertEqual(claims.unionid, "u-1")
        XCTAssertEqual(claims.jti, "jti-1")
        XCTAssertEqual(claims.issuer, "gateway")
        XCTAssertEqual(claims.audience, "legacy-api")
        XCTAssertEqual(claims.expiresAt, F.now.addingTimeInterval(900))
        XCTAssertEqual(claims.issuedAt, F.now)
        XCTAssertEqual(claims.keyID, "hs-1")
    }

    func testTokenMintedByPythonWithoutKidVerifiesAgainstCurrentKey() throws {
        // /work/shared/peers/mint.py with time 1700000000, ttl 3600, uuid 0123...ef: header has no kid.
        let token =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJnYXRld2F5IiwiYXVkIjoibGVnYWN5LWFwaSIsInN1Yi"
            + "I6Im9QeXRob24tb3BlbmlkIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDAsImp0aSI6IjAxMjM0NTY3ODlhYmN"
            + "kZWYwMTIzNDU2Nzg5YWJjZGVmIiwiYXBwaWQiOiJ3eDAwMDAwMDAwMDAwMDAwMDEifQ.X6zXeAaznYHiQE6HeWFlm3kzYFIEJDQ"
            + "BMFaEvoVI7NI"
        let ring = try KeyRing(current: TokenKey.hmac(secret: "dev-only-change-me-0123456789abcdef"))
        let result = F.verifier(ring).verify(token, now: F.now.addingTimeInterval(100))
        let claims = try XCTUnwrap(result.claims, "\(result)")
        XCTAssertEqual(claims.subject, "oPython-openid")
        XCTAssertEqual(claims.jti, "0123456789abcdef0123456789abcdef")
        XCTAssertEqual(claims.expiresAt, Date(timeIntervalSince1970: 1_700_003_600))
    }

    func testRFC7515AppendixA1SignatureVerifies() throws {
        // RFC 7515 A.1: CRLF whitespace inside the JSON, no sub/aud. Reaching the claim checks proves
        // the signature matched.
        let key = try XCTUnwrap(
            Base64URL.decode(
                "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"))
        let token =
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
            + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
            + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        let ring = try KeyRing(current: TokenKey.hmac(secret: key))
        let verifier = AccessTokenVerifier(keyRing: ring, issuer: "joe", audience: "x", leeway: 0)
        let before = Date(timeIntervalSince1970: 1_300_819_000)
        XCTAssertRejected(verifier.verify(token, now: before), .missingClaim("aud"))
        XCTAssertRejected(verifier.verify(token, now: Date(timeIntervalSince1970: 1_300_819_380)), .expired)
        let tampered = token.replacingOccurrences(of: ".dBjf", with: ".dBjg")
        XCTAssertRejected(verifier.verify(tampered, now: before), .badSignature)
    }

    func testValidTokensForEachAsymmetricAlgorithm() throws {
        let keys = [
            try TokenKey(signingKey: P256.Signing.PrivateKey(), kid: "ec"),
            try TokenKey(signingKey: F.rsaKey, kid: "rsa"),
            try TokenKey(signingKey: Curve25519.Signing.PrivateKey(), kid: "ed"),
        ]
        for key in keys {
            let ring = try KeyRing(current: key)
            let issued = try F.issuer(ring).issue(subject: "o-\(key.kid)", ttl: 60, now: F.now)
            let result = F.verifier(ring).verify(issued.token, now: F.now)
            XCTAssertEqual(result.claims?.subject, "o-\(key.kid)", "\(key.algorithm): \(result)")
            XCTAssertEqual(result.claims?.keyID, key.kid)

            // The same token signed by another key of the same type fails.
            let otherKey: TokenKey
            switch key.algorithm {
            case .es256: otherKey = try TokenKey(signingKey: P256.Signing.PrivateKey(), kid: key.kid)
            case .eddsa: otherKey = try TokenKey(signingKey: Curve25519.Signing.PrivateKey(), kid: key.kid)
            default: continue  // a second RSA key is slow to generate; covered by the tampering test below
            }
            let forged = try F.issuer(KeyRing(current: otherKey)).issue(subject: "o", ttl: 60, now: F.now)
            XCTAssertRejected(F.verifier(ring).verify(forged.token, now: F.now), .badSignature)
        }
    }

    func testTamperedRSAPayloadIsRejected() throws {
        let ring = try KeyRing(current: TokenKey(signingKey: F.rsaKey, kid: "rsa"))
        let token = try F.issuer(ring).issue(subject: "o-1", ttl: 60, now: F.now).token
        let parts = token.split(separator: ".")
        let forged = parts[0] + "." + F.b64(F.claims(["sub": "o-admin"])) + "." + parts[2]
        XCTAssertRejected(F.verifier(ring).verify(forged, now: F.now), .badSignature)
    }

    // MARK: algorithm and key selection

    func testAlgNoneIsRejectedWithAndWithoutSignaturePart() {
        let input = F.b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + F.b64(F.claims())
        XCTAssertRejected(verifier.verify(input + ".", now: F.now), .unsupportedAlgorithm)
        XCTAssertRejected(verifier.verify(input, now: F.now), .malformed)
        let noneWithKid = F.b64("{\"alg\":\"none\",\"kid\":\"hs-1\"}") + "." + F.b64(F.claims()) + "."
        XCTAssertRejected(verifier.verify(noneWithKid, now: F.now), .unsupportedAlgorithm)
    }

    func testUnknownAlgorithmIsRejected() {
        let token = F.token(header: F.header(alg: "HS512"), payload: F.claims(), sign: F.hmacSigner(F.secret))
        XCTAssertRejected(verifier.verify(token, now: F.now), .unsupportedAlgorithm)
    }

    func testHMACSignedWithPublicKeyPEMOnES256RingIsRejected() throws {
        let ecKey = try TokenKey(signingKey: P256.Signing.PrivateKey(), kid: "ec")
        let ring = try KeyRing(current: ecKey)
        guard case .es256(let publicKey) = ecKey.verification else { return XCTFail("not an EC key") }
        let publicPEM = Array(publicKey.pemRepresentation.utf8)
        let verifier = F.verifier(ring)
        for kid in ["ec", nil] as [String?] {
            let token = F.token(
                header: F.header(alg: "HS256", kid: kid), payload: F.claims(), sign: F.hmacSigner(publicPEM))
            XCTAssertRejected(verifier.verify(token, now: F.now), .unsupportedAlgorithm)
        }
        // Also with the raw public key bytes and the DER encoding.
        for material in [Array(publicKey.rawRepresentation), Array(publicKey.derRepresentation)] {
            let token = F.token(header: F.header(alg: "HS256"), payload: F.claims(), sign: F.hmacSigner(material))
            XCTAssertRejected(verifier.verify(token, now: F.now), .unsupportedAlgorithm)
        }
    }

    func testAlgorithmDifferentFromTheNamedKeyIsRejected() throws {
        let ring = try KeyRing(
            current: TokenKey(signingKey: P256.Signing.PrivateKey(), kid: "ec"), previous: [F.hmacKey()])
        let token = F.token(
            header: F.header(alg: "HS256", kid: "ec"), payload: F.claims(), sign: F.hmacSigner(F.secret))
        XCTAssertRejected(F.verifier(ring).verify(token, now: F.now), .unsupportedAlgorithm)
        // Without kid, the HS256 previous key is the one tried, and it verifies.
        let noKid = F.hs256Token(kid: nil)
        XCTAssertEqual(F.verifier(ring).verify(noKid, now: F.now).claims?.keyID, "hs-1")
    }

    func testUnknownKidIsRejected() {
        XCTAssertRejected(verifier.verify(F.hs256Token(kid: "nope"), now: F.now), .unknownKey)
    }

    func testTokenSignedWithAnotherSecretIsRejected() {
        let other = "another-secret-another-secret-another-secret"
        XCTAssertRejected(verifier.verify(F.hs256Token(secret: other), now: F.now), .badSignature)
        XCTAssertRejected(verifier.verify(F.hs256Token(kid: nil, secret: other), now: F.now), .badSignature)
    }

    func testPreviousKeyStillVerifiesAfterRotation() throws {
        let old = try F.hmacKey(secret: "old-secret-old-secret-old-secret-old", kid: "old")
        let new = try F.hmacKey(secret: "new-secret-new-secret-new-secret-new", kid: "new")
        let oldToken = try F.issuer(KeyRing(current: old)).issue(subject: "o-old", ttl: 60, now: F.now).token
        let rotated = try KeyRing(current: new, previous: [old.verificationOnly])
        XCTAssertEqual(F.verifier(rotated).verify(oldToken, now: F.now).claims?.keyID, "old")
        let withoutKid = F.hs256Token(kid: nil)  // signed with the fixture secret: neither key
        XCTAssertRejected(F.verifier(rotated).verify(withoutKid, now: F.now), .badSignature)
        // An old token with no kid is found by trying the previous keys of its algorithm.
        let oldNoKid = F.hs256Token(kid: nil, secret: F.secret)
        let ring = try KeyRing(current: new, previous: [F.hmacKey(kid: "fixture")])
        XCTAssertEqual(F.verifier(ring).verify(oldNoKid, now: F.now).claims?.keyID, "fixture")
    }

    func testPublicOnlyPreviousES256KeyVerifiesAfterRotation() throws {
        let oldPrivate = P256.Signing.PrivateKey()
        let oldKey = try TokenKey(signingKey: oldPrivate, kid: "ec-old")
        let token = try F.issuer(KeyRing(current: oldKey)).issue(subject: "o-1", ttl: 60, now: F.now).token
        let previous = try TokenKey.publicKey(
            pem: oldPrivate.publicKey.pemRepresentation, algorithm: .es256, kid: "ec-old")
        let ring = try KeyRing(
            current: TokenKey(signingKey: P256.Signing.PrivateKey(), kid: "ec-new"), previous: [previous])
        XCTAssertEqual(F.verifier(ring).verify(token, now: F.now).claims?.keyID, "ec-old")
    }

    // MARK: time

    func testExpiredTokenIsRejectedAtTheLeewayEdge() {
        let token = F.hs256Token(["exp": 1_700_000_000])
        XCTAssertEqual(
            verifier.verify(token, now: F.now.addingTimeInterval(29)).claims?.expiresAt,
            Date(timeIntervalSince1970: 1_700_000_000))
        XCTAssertRejected(verifier.verify(token, now: F.now.addingTimeInterval(30)), .expired)
        XCTAssertRejected(F.verifier(ring, leeway: 0).verify(token, now: F.now), .expired)
    }

    func testNotYetValidTokenIsRejectedBeyondLeeway() {
        let token = F.hs256Token(["nbf": 1_700_000_100])
        XCTAssertEqual(verifier.verify(token, now: F.now.addingTimeInterval(70)).claims?.subject, "o-user-1")
        XCTAssertRejected(verifier.verify(token, now: F.now.addingTimeInterval(69)), .notYetValid)
    }

    func testTokenIssuedInTheFutureIsRejectedBeyondLeeway() {
        let token = F.hs256Token(["iat": 1_700_000_030])
        XCTAssertEqual(verifier.verify(token, now: F.now).claims?.issuedAt, Date(timeIntervalSince1970: 1_700_000_030))
        XCTAssertRejected(verifier.verify(F.hs256Token(["iat": 1_700_000_031]), now: F.now), .issuedInFuture)
    }

    func testFractionalNumericDatesAreAccepted() {
        let token = F.hs256Token(["exp": 1_700_000_000.5, "iat": 1_699_999_999.25])
        let claims = F.verifier(ring, leeway: 0).verify(token, now: F.now).claims
        XCTAssertEqual(claims?.expiresAt, Date(timeIntervalSince1970: 1_700_000_000.5))
        XCTAssertEqual(claims?.issuedAt, Date(timeIntervalSince1970: 1_699_999_999.25))
        XCTAssertRejected(F.verifier(ring, leeway: 0).verify(token, now: F.now.addingTimeInterval(0.5)), .expired)
    }

    // MARK: claims

    func testWrongIssuerIsRejected() {
        XCTAssertRejected(verifier.verify(F.hs256Token(["iss": "someone-else"]), now: F.now), .wrongIssuer)
    }

    func testWrongAudienceIsRejectedAsStringAndArray() {
        XCTAssertRejected(verifier.verify(F.hs256Token(["aud": "other-api"]), now: F.now), .wrongAudience)
        XCTAssertRejected(verifier.verify(F.hs256Token(["aud": ["a", "b"]]), now: F.now), .wrongAudience)
        XCTAssertRejected(verifier.verify(F.hs256Token(["aud": [String]()]), now: F.now), .wrongAudience)
        XCTAssertEqual(
            verifier.verify(F.hs256Token(["aud": ["a", "legacy-api"]]), now: F.now).claims?.audience, "legacy-api")
        XCTAssertRejected(verifier.verify(F.hs256Token(["aud": ["legacy-api", 7]]), now: F.now), .malformed)
    }

    func testMissingRequiredClaimsAreNamed() {
        for name in ["exp", "sub", "iss", "aud"] {
            XCTAssertRejected(verifier.verify(F.hs256Token(removing: [name]), now: F.now), .missingClaim(name))
        }
        XCTAssertRejected(verifier.verify(F.hs256Token(["sub": ""]), now: F.now), .missingClaim("sub"))
    }

    func testClaimsOfTheWrongTypeAreMalformed() {
        for (name, value) in [("exp", "soon"), ("nbf", "x"), ("iat", true), ("sub", 42), ("jti", 1), ("appid", [1])]
            as [(String, Any)]
        {
            XCTAssertRejected(verifier.verify(F.hs256Token([name: value]), now: F.now), .malformed, "\(name)")
        }
    }

    func testRevokedJTIIsRejected() {
        let revocations = RevocationList()
        let verifier = AccessTokenVerifier(
            keyRing: ring, issuer: F.issuer, audience: F.audience, revocations: revocations)
        let token = F.hs256Token()
        XCTAssertEqual(verifier.verify(token, now: F.now).claims?.jti, "jti-1")
        revocations.revoke(jti: "jti-1", until: F.now.addingTimeInterval(930), now: F.now)
        XCTAssertRejected(verifier.verify(token, now: F.now), .revoked)
    }

    // MARK: structure

    func testTruncatedTokenIsRejected() {
        let token = F.hs256Token()
        let parts = token.split(separator: ".")
        XCTAssertRejected(verifier.verify(parts[0] + "." + parts[1], now: F.now), .malformed)
        XCTAssertRejected(verifier.verify(parts[0] + "." + parts[1] + ".", now: F.now), .badSignature)
        XCTAssertRejected(verifier.verify(String(token.dropLast(3)), now: F.now), .badSignature)
        XCTAssertRejected(verifier.verify(String(token.dropLast(2)), now: F.now), .malformed)  // 41 chars: impossible
        XCTAssertRejected(verifier.verify(String(parts[0]), now: F.now), .malformed)
        XCTAssertRejected(verifier.verify("", now: F.now), .malformed)
        XCTAssertRejected(verifier.verify("..", now: F.now), .malformed)
        XCTAssertRejected(verifier.verify(token + ".x", now: F.now), .malformed)
    }

    func testOversizedTokenIsRejectedBeforeAnyWork() {
        let token = F.hs256Token(["pad": String(repeating: "x", count: 8192)])
        XCTAssertRejected(verifier.verify(token, now: F.now), .malformed)
        XCTAssertRejected(verifier.verify(String(repeating: "a", count: 10_000), now: F.now), .malformed)
    }

    func testGarbageBase64IsRejected() {
        let token = F.hs256Token()
        let parts = token.split(separator: ".").map(String.init)
        XCTAssertRejected(verifier.verify("!!!." + parts[1] + "." + parts[2], now: F.now), .malformed)
        XCTAssertRejected(verifier.verify(parts[0] + "=." + parts[1] + "." + parts[2], now: F.now), .malformed)
        XCTAssertRejected(verifier.verify(parts[0] + "." + parts[1] + "." + parts[2] + "=", now: F.now), .malformed)
        let standardAlphabet = parts[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(
            of: "_", with: "/")
        if standardAlphabet != parts[2] {
            XCTAssertRejected(
                verifier.verify(parts[0] + "." + parts[1] + "." + standardAlphabet, now: F.now), .malformed)
        }
    }

    func testNonJSONHeaderIsRejected() {
        for header in [
            "not json", "[\"HS256\"]", "{\"alg\":\"HS256\"", "{\"alg\":\"HS256\",\"alg\":\"none\"}",
            "{\"typ\":\"JWT\"}",
            "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", "{\"alg\":\"HS256\",\"kid\":5}",
        ] {
            let token = F.token(header: header, payload: F.claims(), sign: F.hmacSigner(F.secret))
            XCTAssertRejected(verifier.verify(token, now: F.now), .malformed, header)
        }
    }

    func testNonJSONPayloadWithValidSignatureIsRejected() {
        for payload in ["nope", "{\"sub\":\"a\",\"sub\":\"b\"}", "{\"exp\":1e999999,}", "{\"sub\":\"\\ud800\"}"] {
            let token = F.token(header: F.header(alg: "HS256"), payload: payload, sign: F.hmacSigner(F.secret))
            XCTAssertRejected(verifier.verify(token, now: F.now), .malformed, payload)
        }
    }

    func testSubstringInputFromAnAuthorizationHeaderVerifies() {
        let header = "Bearer " + F.hs256Token()
        let token = header.dropFirst("Bearer ".count)
        XCTAssertEqual(verifier.verify(token, now: F.now).claims?.subject, "o-user-1")
    }
}
