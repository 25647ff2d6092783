import Crypto
import CryptoExtras
import Foundation
import XCTest

@testable import Tokens

/// The failure side of the verified-token cache (issue 15, item 8): a well-formed forgery of an asymmetric token
/// sent again and again costs one signature check, memory stays bounded, and nothing valid is ever refused by it.
final class CachingTokenVerifierFailureTests: XCTestCase {
    typealias F = TokenFixtures

    private func ring(_ key: TokenKey) throws -> KeyRing { try KeyRing(current: key) }

    private func cache(_ ring: KeyRing, failureCapacity: Int = 100) -> CachingTokenVerifier {
        CachingTokenVerifier(
            wrapping: F.verifier(ring), capacity: 100, stripeCount: 4, failureCapacity: failureCapacity)
    }

    /// A token naming `kid` with a well-formed but wrong signature of `length` bytes.
    private func forgery(kid: String, alg: String, length: Int, jti: String = "jti-1") -> String {
        F.token(header: F.header(alg: alg, kid: kid), payload: F.claims(["jti": jti])) { _ in
            (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ jti.utf8.count) }
        }
    }

    func testRepeatedAsymmetricForgeryIsAnsweredFromTheCache() throws {
        let keys: [(TokenKey, String, Int)] = [
            (try TokenKey(signingKey: P256.Signing.PrivateKey(), kid: "ec"), "ES256", 64),
            (try TokenKey(signingKey: F.rsaKey, kid: "rsa"), "RS256", 256),
            (try TokenKey(signingKey: Curve25519.Signing.PrivateKey(), kid: "ed"), "EdDSA", 64),
        ]
        for (key, alg, length) in keys {
            let verifier = cache(try ring(key))
            let token = forgery(kid: key.kid, alg: alg, length: length)
            for _ in 0..<5 { XCTAssertRejected(verifier.verify(token, now: F.now), .badSignature, alg) }
            XCTAssertEqual(verifier.failureCount, 1, alg)
            XCTAssertEqual(verifier.failureHits, 4, "\(alg): one signature check, then four answers from the cache")
        }
    }

    func testOtherRejectionsAndHMACRingsAreNotRemembered() throws {
        let ec = try TokenKey(signingKey: P256.Signing.PrivateKey(), kid: "ec")
        let verifier = cache(try ring(ec))
        XCTAssertRejected(verifier.verify(forgery(kid: "nope", alg: "ES256", length: 64), now: F.now), .unknownKey)
        XCTAssertRejected(verifier.verify("a.b", now: F.now), .malformed)
        XCTAssertEqual(verifier.failureCount, 0, "only signature failures are worth remembering")

        let hmac = cache(try ring(F.hmacKey()))
        let wrong = F.hs256Token(secret: "another-secret-0123456789abcdef-0123456789")
        for _ in 0..<3 { XCTAssertRejected(hmac.verify(wrong, now: F.now), .badSignature) }
        XCTAssertEqual(hmac.failureCount, 0, "an HMAC check is cheaper than remembering it")
    }

    func testRememberedFailureNeverHidesAValidToken() throws {
        let key = try TokenKey(signingKey: P256.Signing.PrivateKey(), kid: "ec")
        let verifier = cache(try ring(key))
        let valid = try F.token(header: F.header(alg: "ES256", kid: "ec"), payload: F.claims()) {
            Array(try key.signing!.signature(for: $0))
        }
        // The same claims with a broken signature, then with the real one: different bytes, different entries.
        var forged = Array(valid.utf8)
        forged[forged.count - 2] = forged[forged.count - 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        XCTAssertRejected(verifier.verify(String(decoding: forged, as: UTF8.self), now: F.now), .badSignature)
        XCTAssertEqual(verifier.verify(valid, now: F.now).claims?.keyID, "ec")
    }

    func testFailureMemoryIsBounded() throws {
        let key = try TokenKey(signingKey: P256.Signing.PrivateKey(), kid: "ec")
        let verifier = cache(try ring(key), failureCapacity: 40)
        for index in 0..<300 {
            XCTAssertRejected(
                verifier.verify(forgery(kid: "ec", alg: "ES256", length: 64, jti: "f-\(index)"), now: F.now),
                .badSignature)
            XCTAssertLessThanOrEqual(verifier.failureCount, 40)
        }
        XCTAssertGreaterThan(verifier.failureCount, 0)
        verifier.removeAll()
        XCTAssertEqual(verifier.failureCount, 0)
    }
}
