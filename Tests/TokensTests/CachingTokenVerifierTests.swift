import Foundation
import JSON
import XCTest

@testable import Tokens

final class CachingTokenVerifierTests: XCTestCase {
    typealias F = TokenFixtures

    /// Counts how often the inner verifier really ran, through the revocation hook it calls once per verify.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func increment() { lock.withLock { value += 1 } }
        var count: Int { lock.withLock { value } }
    }

    private func makeCache(
        capacity: Int = 100, revocations: RevocationList = RevocationList(), stripeCount: Int = 4
    ) throws -> CachingTokenVerifier {
        let inner = AccessTokenVerifier(
            keyRing: try KeyRing(current: F.hmacKey()), issuer: F.issuer, audience: F.audience, leeway: 30,
            revocations: revocations)
        return CachingTokenVerifier(wrapping: inner, capacity: capacity, stripeCount: stripeCount)
    }

    func testHitReturnsTheSameClaims() throws {
        let cache = try makeCache()
        let token = F.hs256Token()
        let first = cache.verify(token, now: F.now)
        XCTAssertEqual(first.claims?.subject, "o-user-1")
        XCTAssertEqual(cache.count, 1)
        XCTAssertEqual(cache.verify(token, now: F.now.addingTimeInterval(1)), first)
        XCTAssertEqual(cache.count, 1)
    }

    func testTokensAreMatchedByContentWhateverStringTheyAreSlicesOf() throws {
        let cache = try makeCache()
        let token = F.hs256Token()
        let header = "Bearer " + token + "  "
        let slice = header.dropFirst(7).dropLast(2)
        let first = cache.verify(slice, now: F.now)
        XCTAssertEqual(first.claims?.jti, "jti-1")
        XCTAssertEqual(cache.verify(token[...], now: F.now), first)
        XCTAssertEqual(cache.verify(("x" + token).dropFirst(), now: F.now), first)
        XCTAssertEqual(cache.count, 1, "one entry, found again from slices of other strings")
    }

    func testBytesFindTheEntryTheTextMadeAndTheTextTheBytes() throws {
        let cache = try makeCache()
        let token = F.hs256Token()
        let first = Array(token.utf8).withUnsafeBytes { cache.verify(utf8: $0, now: F.now) }
        XCTAssertEqual(first.claims?.jti, "jti-1")
        XCTAssertEqual(cache.verify(token, now: F.now), first)
        let offset = Array(("x" + token).utf8).withUnsafeBytes {
            cache.verify(utf8: UnsafeRawBufferPointer(rebasing: $0.dropFirst()), now: F.now)
        }
        XCTAssertEqual(offset, first)
        XCTAssertEqual(cache.count, 1)
    }

    /// The key's hash covers only the last 32 bytes (the signature): a token that ends like a cached one but differs
    /// before them must get its own signature check, never the cached claims.
    func testATokenEndingAsACachedOneButDifferingBeforeIsCheckedOnItsOwn() throws {
        let cache = try makeCache()
        let token = F.hs256Token()
        XCTAssertNotNil(cache.verify(token, now: F.now).claims)
        let parts = token.split(separator: ".")
        let forgedPayload = Base64URL.encode(Array(#"{"sub":"o-attacker","iss":"x"}"#.utf8))
        let forged = "\(parts[0]).\(forgedPayload).\(parts[2])"
        XCTAssertEqual(String(forged.suffix(32)), String(token.suffix(32)))
        XCTAssertEqual(cache.verify(forged, now: F.now), .invalid(.badSignature))
        XCTAssertEqual(cache.count, 1)
    }

    func testHitDoesNotRedoTheSignatureCheck() throws {
        let counter = Counter()
        let inner = AccessTokenVerifier(
            keyRing: try KeyRing(current: F.hmacKey()), issuer: F.issuer, audience: F.audience,
            isRevoked: { _, _ in
                counter.increment()
                return false
            })
        let cache = CachingTokenVerifier(wrapping: inner, capacity: 10)
        // A verifier whose ring lacks the key would reject; swapping is impossible, so count instead:
        // a miss runs the full check and a hit only the re-check, both of which consult revocation once.
        _ = cache.verify(F.hs256Token(), now: F.now)
        _ = cache.verify(F.hs256Token(), now: F.now)
        XCTAssertEqual(counter.count, 2, "revocation is consulted on the miss and again on the hit")
        XCTAssertEqual(cache.count, 1)
    }

    func testExpiredEntryIsNeverReturnedValid() throws {
        let cache = try makeCache()
        let token = F.hs256Token(["exp": 1_700_000_010])
        let expiry = Date(timeIntervalSince1970: 1_700_000_010)
        XCTAssertEqual(cache.verify(token, now: F.now).claims?.expiresAt, expiry)
        XCTAssertEqual(cache.verify(token, now: F.now.addingTimeInterval(39)).claims?.expiresAt, expiry)
        XCTAssertRejected(cache.verify(token, now: F.now.addingTimeInterval(40)), .expired)
        XCTAssertEqual(cache.count, 0, "the expired entry is dropped")
    }

    func testRevocationAfterCachingTakesEffectAtOnce() throws {
        let revocations = RevocationList()
        let cache = try makeCache(revocations: revocations)
        let token = F.hs256Token()
        XCTAssertEqual(cache.verify(token, now: F.now).claims?.jti, "jti-1")
        revocations.revoke(jti: "jti-1", until: F.now.addingTimeInterval(930), now: F.now)
        XCTAssertRejected(cache.verify(token, now: F.now), .revoked)
    }

    func testInvalidResultsAreNotCached() throws {
        let cache = try makeCache()
        XCTAssertRejected(cache.verify(F.hs256Token(["iss": "x"]), now: F.now), .wrongIssuer)
        XCTAssertRejected(cache.verify("garbage", now: F.now), .malformed)
        XCTAssertEqual(cache.count, 0)
    }

    func testSizeBoundIsRespected() throws {
        let cache = try makeCache(capacity: 40, stripeCount: 4)
        for index in 0..<500 {
            let token = F.hs256Token(["jti": "jti-\(index)"])
            XCTAssertEqual(cache.verify(token, now: F.now).claims?.jti, "jti-\(index)")
            XCTAssertLessThanOrEqual(cache.count, 40)
        }
        XCTAssertGreaterThan(cache.count, 0)
    }

    func testFullCacheDropsExpiredEntriesFirst() throws {
        let cache = try makeCache(capacity: 4, stripeCount: 1)
        for index in 0..<3 {
            _ = cache.verify(F.hs256Token(["jti": "old-\(index)", "exp": 1_700_000_010]), now: F.now)
        }
        let live = F.hs256Token(["jti": "live"])
        _ = cache.verify(live, now: F.now)
        XCTAssertEqual(cache.count, 4)
        let later = F.now.addingTimeInterval(100)
        _ = cache.verify(F.hs256Token(["jti": "new", "iat": 1_700_000_100, "exp": 1_700_000_900]), now: later)
        XCTAssertEqual(cache.count, 2, "the three expired entries went, the live one stayed")
    }

    func testConcurrentUseFromManyThreads() throws {
        let cache = try makeCache(capacity: 64)
        let tokens = (0..<32).map { F.hs256Token(["jti": "c-\($0)"]) }
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<200 {
                let index = (worker * 7 + round) % tokens.count
                XCTAssertEqual(cache.verify(tokens[index], now: F.now).claims?.jti, "c-\(index)")
            }
        }
        XCTAssertLessThanOrEqual(cache.count, 64)
    }
}
