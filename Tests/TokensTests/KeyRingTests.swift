import Crypto
import CryptoExtras
import Foundation
import JSON
import XCTest

@testable import Tokens

final class KeyRingTests: XCTestCase {
    func testCurrentKeyMustBeAbleToSign() throws {
        let publicOnly = try TokenKey(verificationKey: P256.Signing.PrivateKey().publicKey, kid: "p")
        XCTAssertThrowsError(try KeyRing(current: publicOnly)) { error in
            XCTAssertEqual(error as? TokenKeyError, .currentKeyCannotSign(kid: "p"))
        }
    }

    func testDuplicateKidIsRefused() throws {
        let a = try TokenFixtures.hmacKey(kid: "same")
        let b = try TokenKey(signingKey: P256.Signing.PrivateKey(), kid: "same")
        XCTAssertThrowsError(try KeyRing(current: a, previous: [b])) { error in
            XCTAssertEqual(error as? TokenKeyError, .duplicateKeyID("same"))
        }
    }

    func testJWKSIsEmptyForHMACRing() throws {
        let ring = try KeyRing(current: TokenFixtures.hmacKey())
        XCTAssertEqual(ring.jwks(), "{\"keys\":[]}")
        XCTAssertFalse(ring.jwks().contains(TokenFixtures.secret))
    }

    func testJWKSListsPublicKeysOfCurrentAndPreviousAsymmetricKeys() throws {
        let ec = P256.Signing.PrivateKey()
        let ed = Curve25519.Signing.PrivateKey()
        let ring = try KeyRing(
            current: TokenKey(signingKey: ec, kid: "ec"),
            previous: [
                TokenKey(verificationKey: TokenFixtures.rsaKey.publicKey, kid: "rsa"),
                TokenKey(signingKey: ed, kid: "ed").verificationOnly,
                TokenFixtures.hmacKey(kid: "hs"),
            ])
        let json = try JSONSerialization.jsonObject(with: Data(ring.jwks().utf8)) as? [String: Any]
        let keys = try XCTUnwrap(json?["keys"] as? [[String: String]])
        XCTAssertEqual(keys.map { $0["kid"] }, ["ec", "rsa", "ed"])
        XCTAssertEqual(keys.map { $0["alg"] }, ["ES256", "RS256", "EdDSA"])
        XCTAssertEqual(keys.map { $0["kty"] }, ["EC", "RSA", "OKP"])
        XCTAssertTrue(keys.allSatisfy { $0["use"] == "sig" })
        XCTAssertTrue(keys.allSatisfy { $0["d"] == nil && $0["k"] == nil })
        XCTAssertEqual(keys[0]["crv"], "P-256")
        XCTAssertEqual(
            Base64URL.decode(keys[0]["x"]!)! + Base64URL.decode(keys[0]["y"]!)!, Array(ec.publicKey.rawRepresentation))
        XCTAssertEqual(keys[1]["e"], "AQAB")
        XCTAssertEqual(Base64URL.decode(keys[1]["n"]!)?.count, 256)
        XCTAssertEqual(keys[2]["crv"], "Ed25519")
        XCTAssertEqual(Base64URL.decode(keys[2]["x"]!), Array(ed.publicKey.rawRepresentation))
    }
}
