import Crypto
import CryptoExtras
import JSON
import XCTest

@testable import Tokens

final class TokenKeyTests: XCTestCase {
    func testShortHMACSecretIsRefused() {
        XCTAssertThrowsError(try TokenKey.hmac(secret: "too-short")) { error in
            XCTAssertEqual(error as? TokenKeyError, .secretTooShort(byteCount: 9))
        }
        XCTAssertNoThrow(try TokenKey.hmac(secret: String(repeating: "s", count: 32)))
    }

    func testDerivedKidIsStableAndDoesNotRevealTheSecret() throws {
        let secret = "0123456789abcdef0123456789abcdef"
        let first = try TokenKey.hmac(secret: secret)
        let second = try TokenKey.hmac(secret: secret)
        XCTAssertEqual(first.kid, second.kid)
        XCTAssertEqual(first.kid.count, 11)  // 8 bytes, base64url
        XCTAssertFalse(first.kid.contains("0123"))
        XCTAssertNotEqual(first.kid, try TokenKey.hmac(secret: secret + "x").kid)
        XCTAssertFalse(first.description.contains(secret))
    }

    func testDerivedKidOfAsymmetricKeyIsTheTruncatedRFC7638Thumbprint() throws {
        let key = try TokenKey(signingKey: P256.Signing.PrivateKey())
        XCTAssertEqual(key.kid, Base64URL.encode(try XCTUnwrap(Base64URL.decode(key.jwkThumbprint)).prefix(8)))
        XCTAssertEqual(key.kid, try TokenKey(verificationKey: key.publicP256()).kid)
    }

    func testRFC7638ThumbprintExample() throws {
        // RFC 7638 section 3.1.
        let n =
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWK"
            + "RXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMic"
            + "AtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
            + "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        let publicKey = try _RSA.Signing.PublicKey(
            n: XCTUnwrap(Base64URL.decode(n)), e: XCTUnwrap(Base64URL.decode("AQAB")))
        let key = try TokenKey(verificationKey: publicKey, kid: "x")
        XCTAssertEqual(key.jwkThumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }

    func testPEMKeysLoadForEachAlgorithm() throws {
        let ec = P256.Signing.PrivateKey()
        let ed = Curve25519.Signing.PrivateKey()
        let cases: [(String, String, SigningAlgorithm)] = [
            (ec.pemRepresentation, ec.publicKey.pemRepresentation, .es256),
            (TokenFixtures.rsaKey.pemRepresentation, TokenFixtures.rsaKey.publicKey.pemRepresentation, .rs256),
            (ed.pemRepresentation, ed.publicKey.pemRepresentation, .eddsa),
        ]
        for (privatePEM, publicPEM, algorithm) in cases {
            let signing = try TokenKey.privateKey(pem: privatePEM, algorithm: algorithm)
            let verifying = try TokenKey.publicKey(pem: publicPEM, algorithm: algorithm)
            XCTAssertTrue(signing.canSign)
            XCTAssertFalse(verifying.canSign)
            XCTAssertEqual(signing.algorithm, algorithm)
            XCTAssertEqual(signing.kid, verifying.kid, "the kid derives from the public key")
            XCTAssertTrue(try TokenKey.pem(privatePEM, algorithm: algorithm).canSign)
            XCTAssertFalse(try TokenKey.pem(publicPEM, algorithm: algorithm).canSign)
            XCTAssertFalse(try TokenKey.publicKey(pem: privatePEM, algorithm: algorithm).canSign)
        }
    }

    func testPKCS1RSAPrivateKeyPEMLoads() throws {
        let pem = TokenFixtures.rsaKey.pemRepresentation
        XCTAssertTrue(pem.hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
        XCTAssertNoThrow(try TokenKey.privateKey(pem: pem, algorithm: .rs256))
    }

    func testLoadingErrorsSayWhatIsWrong() throws {
        let ec = P256.Signing.PrivateKey()
        XCTAssertEqual(
            loadError { try TokenKey.privateKey(pem: ec.pemRepresentation, algorithm: .rs256) },
            .wrongKeyType(algorithm: .rs256, found: "an EC P-256 private key"))
        XCTAssertEqual(
            loadError { try TokenKey.privateKey(pem: TokenFixtures.rsaKey.pemRepresentation, algorithm: .es256) },
            .wrongKeyType(algorithm: .es256, found: "an RSA private key"))
        XCTAssertEqual(
            loadError { try TokenKey.privateKey(pem: P384.Signing.PrivateKey().pemRepresentation, algorithm: .es256) },
            .wrongKeyType(algorithm: .es256, found: "an EC P-384 key"))
        XCTAssertEqual(
            loadError { try TokenKey.privateKey(pem: ec.publicKey.pemRepresentation, algorithm: .es256) },
            .publicKeyWhereSigningKeyNeeded(algorithm: .es256))
        XCTAssertEqual(
            loadError { try TokenKey.privateKey(pem: "keys/signing.pem", algorithm: .eddsa) },
            .badPEM(algorithm: .eddsa, detail: "no \"-----BEGIN\" line; expected PEM text"))
        let broken = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        XCTAssertEqual(
            loadError { try TokenKey.privateKey(pem: broken, algorithm: .eddsa) },
            .badPEM(algorithm: .eddsa, detail: "the PEM could not be decoded as a key"))
        XCTAssertEqual(
            loadError { try TokenKey.privateKey(pem: ec.pemRepresentation, algorithm: .hs256) },
            .materialNotForAlgorithm(.hs256))
        XCTAssertEqual(loadError { try TokenKey.hmac(secret: String(repeating: "s", count: 40), kid: "") }, .emptyKeyID)
    }

    func testSmallRSAKeyIsRefused() throws {
        let small = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024))
        XCTAssertEqual(
            loadError { try TokenKey.privateKey(pem: small.pemRepresentation, algorithm: .rs256) },
            .rsaKeyTooSmall(bits: 1024))
        XCTAssertEqual(
            loadError { try TokenKey.publicKey(pem: small.publicKey.pemRepresentation, algorithm: .rs256) },
            .rsaKeyTooSmall(bits: 1024))
    }

    func testErrorMessagesNeverQuoteTheSecret() {
        let error = loadError { try TokenKey.hmac(secret: "short-secret") }
        XCTAssertFalse(String(describing: error).contains("short-secret"))
    }

    private func loadError(_ body: () throws -> TokenKey) -> TokenKeyError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? TokenKeyError
        }
    }
}

extension TokenKey {
    fileprivate func publicP256() throws -> P256.Signing.PublicKey {
        guard case .es256(let key) = verification else { throw TokenRejection.malformed }
        return key
    }
}
