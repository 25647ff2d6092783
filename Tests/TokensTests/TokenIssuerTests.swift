import Crypto
import CryptoExtras
import Foundation
import JSON
import JWTKit
import XCTest

@testable import Tokens

final class TokenIssuerTests: XCTestCase {
    typealias F = TokenFixtures

    func testHS256TokenMatchesKnownAnswerFromPythonHMAC() throws {
        // Produced with Python's json.dumps(separators=(",", ":")) + hmac/hashlib, independent of this code.
        let expected =
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJpc3MiOiJnYXRld2F5IiwiYXVkIjoibGVnYWN5LW"
            + "FwaSIsInN1YiI6Im8tb3BlbmlkIiwiZXhwIjoxNzAwMDAwOTAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAwMTEyMjMzNDQ1NTY"
            + "2Nzc4ODk5YWFiYmNjZGRlZWZmIiwiYXBwaWQiOiJ3eDAwMDAwMDAwMDAwMDAwMDEifQ.uAu17XYsOt_2uybldgxcg_rQC06GV29oS9"
            + "ytwhyT7Ns"
        let ring = try KeyRing(current: TokenKey.hmac(secret: "0123456789abcdef0123456789abcdef", kid: "k1"))
        let issuer = TokenIssuer(
            keyRing: ring, issuer: "gateway", audience: "legacy-api",
            makeTokenID: { "00112233445566778899aabbccddeeff" })
        let issued = try issuer.issue(
            subject: "o-openid", appid: "wx0000000000000001", ttl: 900,
            now: Date(timeIntervalSince1970: 1_700_000_000.7))
        XCTAssertEqual(issued.token, expected)
        XCTAssertEqual(issued.jti, "00112233445566778899aabbccddeeff")
        XCTAssertEqual(issued.issuedAt, Date(timeIntervalSince1970: 1_700_000_000))
        XCTAssertEqual(issued.expiresAt, Date(timeIntervalSince1970: 1_700_000_900))
    }

    func testIssuedTokenCarriesHeaderAndClaimsAndOmitsUnknownUnionid() throws {
        let ring = try KeyRing(current: F.hmacKey())
        let issued = try F.issuer(ring).issue(subject: "o-1", appid: "wx1", ttl: 60, now: F.now)
        let parts = issued.token.split(separator: ".").map(String.init)
        let header = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(Base64URL.decode(parts[0])!)) as? [String: Any])
        XCTAssertEqual(header["alg"] as? String, "HS256")
        XCTAssertEqual(header["kid"] as? String, "hs-1")
        XCTAssertEqual(header["typ"] as? String, "JWT")
        let claims = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(Base64URL.decode(parts[1])!)) as? [String: Any])
        XCTAssertEqual(Set(claims.keys), ["iss", "aud", "sub", "exp", "iat", "jti", "appid"])
        let withUnion = try F.issuer(ring).issue(subject: "o-1", appid: "wx1", unionid: "u-1", ttl: 60, now: F.now)
        XCTAssertEqual(F.verifier(ring).verify(withUnion.token, now: F.now).claims?.unionid, "u-1")
    }

    func testRandomTokenIDsAre128BitHexAndDistinct() {
        let ids = (0..<100).map { _ in TokenIssuer.randomTokenID() }
        XCTAssertEqual(Set(ids).count, 100)
        XCTAssertTrue(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }

    func testInvalidRequestsAreRefused() throws {
        let issuer = F.issuer(try KeyRing(current: F.hmacKey()))
        XCTAssertThrowsError(try issuer.issue(subject: "", ttl: 60, now: F.now)) {
            XCTAssertEqual($0 as? TokenIssueError, .emptySubject)
        }
        XCTAssertThrowsError(try issuer.issue(subject: "o", ttl: 0, now: F.now)) {
            XCTAssertEqual($0 as? TokenIssueError, .invalidLifetime(0))
        }
    }

    func testClaimsNeedingEscapesRoundTrip() throws {
        let ring = try KeyRing(current: F.hmacKey())
        // Control characters are refused in identity claims (they become header lines), so the escapes of line
        // breaks and control characters are exercised through `sid`, which never leaves the gateway.
        let subject = "o\"quote\\back-é-😀"
        let sessionID = "s\"\\\nline\u{1}ctl"
        let issued = try F.issuer(ring).issue(subject: subject, sessionID: sessionID, ttl: 60, now: F.now)
        let claims = F.verifier(ring).verify(issued.token, now: F.now).claims
        XCTAssertEqual(claims?.subject, subject)
        XCTAssertEqual(claims?.sessionID, sessionID)
    }

    func testIdentityClaimsThatCouldNotBeHeaderValuesAreRefused() throws {
        let issuer = F.issuer(try KeyRing(current: F.hmacKey()))
        XCTAssertThrowsError(try issuer.issue(subject: "o\r\nX-Admin: 1", ttl: 60, now: F.now)) {
            XCTAssertEqual(
                $0 as? TokenIssueError, .unusableIdentity(claim: "sub", problem: "contains a line break (CR or LF)"))
        }
        XCTAssertThrowsError(try issuer.issue(subject: "o", unionid: "u\u{1}", ttl: 60, now: F.now)) {
            XCTAssertEqual(
                $0 as? TokenIssueError,
                .unusableIdentity(claim: "unionid", problem: "contains a control character (byte 0x01)"))
        }
        XCTAssertThrowsError(try issuer.issue(subject: "o", appid: " wx1", ttl: 60, now: F.now)) {
            XCTAssertEqual(
                $0 as? TokenIssueError, .unusableIdentity(claim: "appid", problem: "starts or ends with a space"))
        }
    }

    struct Payload: JWTPayload {
        var sub: SubjectClaim
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var jti: IDClaim
        var appid: String?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    func testJWTKitVerifiesIssuedHS256Token() async throws {
        let ring = try KeyRing(current: F.hmacKey())
        let issued = try F.issuer(ring).issue(subject: "o-kit", appid: "wx1", ttl: 60, now: Date())
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: F.secret), digestAlgorithm: .sha256, kid: "hs-1")
        let payload = try await keys.verify(issued.token, as: Payload.self)
        XCTAssertEqual(payload.sub.value, "o-kit")
        XCTAssertEqual(payload.jti.value, issued.jti)
        XCTAssertEqual(payload.appid, "wx1")
    }

    func testJWTKitVerifiesAsymmetricTokensThroughOurJWKS() async throws {
        let keys = [
            try TokenKey(signingKey: P256.Signing.PrivateKey(), kid: "ec"),
            try TokenKey(signingKey: F.rsaKey, kid: "rsa"),
            try TokenKey(signingKey: Curve25519.Signing.PrivateKey(), kid: "ed"),
        ]
        for key in keys {
            let ring = try KeyRing(current: key)
            let issued = try F.issuer(ring).issue(subject: "o-\(key.kid)", ttl: 60, now: Date())
            let collection = JWTKeyCollection()
            try await collection.add(jwksJSON: ring.jwks())
            let payload = try await collection.verify(issued.token, as: Payload.self)
            XCTAssertEqual(payload.sub.value, "o-\(key.kid)", "\(key.algorithm)")
        }
    }

    func testTokensSignedByJWTKitVerify() async throws {
        let ec = P256.Signing.PrivateKey()
        let collection = JWTKeyCollection()
        await collection.add(ecdsa: try ES256PrivateKey(pem: ec.pemRepresentation), kid: "ec")
        let payload = Payload(
            sub: "o-from-kit", iss: "gateway", aud: "legacy-api", exp: .init(value: F.now.addingTimeInterval(60)),
            jti: "j-1", appid: nil)
        let token = try await collection.sign(payload, kid: "ec")
        let ring = try KeyRing(current: TokenKey(signingKey: ec, kid: "ec"))
        XCTAssertEqual(F.verifier(ring).verify(token, now: F.now).claims?.subject, "o-from-kit")
    }

    func testAppKindIsIssuedAndVerifiedAndAbsentMeansMiniprogram() throws {
        let ring = try KeyRing(current: F.hmacKey())
        let verifier = F.verifier(ring)
        let issued = try F.issuer(ring).issue(subject: "o", appid: "wx", appKind: .website, ttl: 900, now: F.now)
        guard case .valid(let claims) = verifier.verify(Substring(issued.token), now: F.now) else {
            return XCTFail("not valid")
        }
        XCTAssertEqual(claims.appKind, .website)
        let old = try F.issuer(ring).issue(subject: "o", appid: "wx", ttl: 900, now: F.now)
        guard case .valid(let oldClaims) = verifier.verify(Substring(old.token), now: F.now) else {
            return XCTFail("not valid")
        }
        XCTAssertEqual(oldClaims.appKind, .miniprogram)
        let sign = F.hmacSigner(Array(F.secret.utf8))
        let refused: [(String, TokenVerification)] = [
            ("\"applet\"", .invalid(.invalidClaim("app_kind"))), ("7", .invalid(.malformed)),
        ]
        for (kind, expected) in refused {
            let payload = F.claims().dropLast() + ",\"app_kind\":" + kind + "}"
            let token = F.token(header: F.header(alg: "HS256", kid: "hs-1"), payload: String(payload), sign: sign)
            XCTAssertEqual(verifier.verify(Substring(token), now: F.now), expected, kind)
        }
    }
}
