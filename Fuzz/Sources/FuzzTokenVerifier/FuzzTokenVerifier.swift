import Crypto
import Foundation
@testable import Tokens

/// The access-token verifier, token string in, decision out, against an HS256 ring and an ES256 ring (through the
/// caching verifier, so its failure memory is exercised too): never a crash or a hang, the same decision twice, and
/// whatever verifies (the seeds hold valid tokens, which the fuzzer mutates) carries identity values that can be
/// header values and a finite expiry. A fixed ES256 key keeps runs reproducible.
private let hmacRing = try! KeyRing(current: TokenKey.hmac(secret: "fuzzing-secret-0123456789abcdef-0123", kid: "hs"))
private let ecKey = try! P256.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
private let ecRing = try! KeyRing(current: TokenKey(signingKey: ecKey, kid: "ec"))
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
        let decision = verifier.verify(token[...], now: now)
        precondition(verifier.verify(token[...], now: now) == decision, "two decisions for one token")
        if case .valid(let claims) = decision {
            for value in [claims.subject, claims.appid, claims.unionid].compactMap({ $0 }) {
                precondition(IdentityClaim.isAcceptable(value), "an unusable identity verified")
            }
            precondition(claims.expiresAt.timeIntervalSince1970.isFinite, "an endless token verified")
        }
    }
    return 0
}
