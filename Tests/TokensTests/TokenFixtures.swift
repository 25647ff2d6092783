import Crypto
import CryptoExtras
import Foundation
import JSON
import XCTest

@testable import Tokens

/// Keys, clocks and a hand-rolled token builder, so tests can forge exactly the token they need.
enum TokenFixtures {
    static let secret = "0123456789abcdef0123456789abcdef-test-secret"
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let issuer = "gateway"
    static let audience = "legacy-api"

    static func hmacKey(secret: String = secret, kid: String? = "hs-1") throws -> TokenKey {
        try TokenKey.hmac(secret: secret, kid: kid)
    }

    static func verifier(
        _ ring: KeyRing, leeway: TimeInterval = 30,
        isRevoked: @escaping @Sendable (String, Date) -> Bool = { _, _ in false }
    ) -> AccessTokenVerifier {
        AccessTokenVerifier(keyRing: ring, issuer: issuer, audience: audience, leeway: leeway, isRevoked: isRevoked)
    }

    static func issuer(_ ring: KeyRing) -> TokenIssuer {
        TokenIssuer(keyRing: ring, issuer: issuer, audience: audience)
    }

    /// A claims set with sensible defaults; pass `nil`-valued entries in `overrides` removal list to drop claims.
    static func claims(
        _ overrides: [String: Any] = [:], removing: Set<String> = [], now: Date = now
    ) -> String {
        var claims: [String: Any] = [
            "iss": issuer, "aud": audience, "sub": "o-user-1", "jti": "jti-1", "appid": "wx0000000000000001",
            "iat": Int(now.timeIntervalSince1970), "exp": Int(now.timeIntervalSince1970) + 900,
        ]
        claims.merge(overrides) { $1 }
        for name in removing { claims[name] = nil }
        let data = try! JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    static func header(alg: String, kid: String? = nil) -> String {
        kid.map { "{\"alg\":\"\(alg)\",\"kid\":\"\($0)\",\"typ\":\"JWT\"}" } ?? "{\"alg\":\"\(alg)\",\"typ\":\"JWT\"}"
    }

    static func b64(_ text: String) -> String {
        Base64URL.encode(Array(text.utf8))
    }

    /// `header.payload.signature` where `sign` gets the signing input bytes.
    static func token(header: String, payload: String, sign: ([UInt8]) throws -> [UInt8]) rethrows -> String {
        let input = b64(header) + "." + b64(payload)
        return input + "." + Base64URL.encode(try sign(Array(input.utf8)))
    }

    static func hmacSigner(_ secret: [UInt8]) -> ([UInt8]) -> [UInt8] {
        { Array(HMAC<SHA256>.authenticationCode(for: $0, using: SymmetricKey(data: secret))) }
    }

    static func hmacSigner(_ secret: String) -> ([UInt8]) -> [UInt8] {
        hmacSigner(Array(secret.utf8))
    }

    /// A signed HS256 token with default claims changed by `overrides`.
    static func hs256Token(
        _ overrides: [String: Any] = [:], removing: Set<String> = [], kid: String? = "hs-1", secret: String = secret
    ) -> String {
        token(
            header: header(alg: "HS256", kid: kid), payload: claims(overrides, removing: removing),
            sign: hmacSigner(secret))
    }

    /// 2048-bit RSA generation is slow; share one key across tests.
    static let rsaKey: _RSA.Signing.PrivateKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
}

func XCTAssertRejected(
    _ result: TokenVerification, _ reason: TokenRejection, _ message: String = "", file: StaticString = #filePath,
    line: UInt = #line
) {
    XCTAssertEqual(result, .invalid(reason), message, file: file, line: line)
}
