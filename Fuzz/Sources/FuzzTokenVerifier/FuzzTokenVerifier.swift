import Crypto
import Foundation
@testable import Tokens

/// The access-token verifier, token string in, decision out, against an HS256 ring and an ES256 ring (through the
/// caching verifier, so its failure memory is exercised too). Random input must never verify, never crash, never
/// hang. A fixed ES256 key keeps runs reproducible.
private let hmacRing = try! KeyRing(current: TokenKey.hmac(secret: "fuzzing-secret-0123456789abcdef-0123", kid: "hs"))
private let ecRing = try! KeyRing(
    current: TokenKey(signingKey: P256.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32)), kid: "ec"))
private let verifiers: [any TokenVerifier] = [
    AccessTokenVerifier(keyRing: hmacRing, issuer: "gateway", audience: "legacy-api"),
    CachingTokenVerifier(
        wrapping: AccessTokenVerifier(keyRing: ecRing, issuer: "gateway", audience: "legacy-api"), capacity: 64,
        failureCapacity: 64),
]
private let now = Date(timeIntervalSince1970: 1_700_000_000)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenVerifier(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    let token = String(decoding: bytes, as: UTF8.self)
    for verifier in verifiers {
        if case .valid(let claims) = verifier.verify(token[...], now: now) {
            // Only a forged signature could get here; a valid result would be a finding.
            preconditionFailure("random input verified: \(claims)")
        }
    }
    return 0
}
