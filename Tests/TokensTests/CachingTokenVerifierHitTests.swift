import Foundation
import XCTest

@testable import Tokens

/// A cache hit re-checks what the full check would (expiry, the `jti` and the session's revocation keys) on an entry
/// made once when the token verified, and its key matches on every byte of the token, whatever its length.
final class CachingTokenVerifierHitTests: XCTestCase {
    typealias F = TokenFixtures

    /// The revocation keys asked for, in order.
    final class Asked: @unchecked Sendable {
        private let lock = NSLock()
        private var keys: [String] = []
        func append(_ key: String) { lock.withLock { keys.append(key) } }
        func take() -> [String] {
            lock.withLock {
                defer { keys.removeAll() }
                return keys
            }
        }
    }

    private func makeCache(revocations: RevocationList = RevocationList()) throws -> CachingTokenVerifier {
        let inner = AccessTokenVerifier(
            keyRing: try KeyRing(current: F.hmacKey()), issuer: F.issuer, audience: F.audience, leeway: 30,
            revocations: revocations)
        return CachingTokenVerifier(wrapping: inner, capacity: 100, stripeCount: 4)
    }

    func testHitAsksRevocationForTheSameKeysAsTheFullCheck() throws {
        let asked = Asked()
        let inner = AccessTokenVerifier(
            keyRing: try KeyRing(current: F.hmacKey()), issuer: F.issuer, audience: F.audience,
            isRevoked: { key, _ in
                asked.append(key)
                return false
            })
        let cache = CachingTokenVerifier(wrapping: inner, capacity: 10)
        let token = F.hs256Token(["sid": "session-\u{e9}-1"])
        let miss = cache.verify(token, now: F.now)
        XCTAssertEqual(asked.take(), ["jti-1", "sid:session-\u{e9}-1"])
        XCTAssertEqual(cache.verify(token, now: F.now), miss)
        XCTAssertEqual(asked.take(), ["jti-1", "sid:session-\u{e9}-1"], "the hit asks for the same keys")
        let noSession = F.hs256Token(["jti": "jti-2"])
        _ = cache.verify(noSession, now: F.now)
        _ = cache.verify(noSession, now: F.now)
        XCTAssertEqual(asked.take(), ["jti-2", "jti-2"], "no session, no session key")
    }

    func testSessionRevocationAfterCachingTakesEffectOnTheHit() throws {
        let revocations = RevocationList()
        let cache = try makeCache(revocations: revocations)
        let token = F.hs256Token(["sid": "s-1"])
        XCTAssertEqual(cache.verify(token, now: F.now).claims?.sessionID, "s-1")
        XCTAssertEqual(cache.verify(token, now: F.now).claims?.sessionID, "s-1")
        revocations.revoke(
            jti: AccessTokenVerifier.sessionRevocationKey("s-1"), until: F.now.addingTimeInterval(930), now: F.now)
        XCTAssertRejected(cache.verify(token, now: F.now), .revoked)
        XCTAssertEqual(cache.count, 1, "a revoked entry stays, refused on every hit until it expires")
        XCTAssertRejected(cache.verify(token, now: F.now), .revoked)
    }

    func testHitAnswersWhatTheFullCheckAnswers() throws {
        let cache = try makeCache()
        let token = F.hs256Token(["sid": "s-2", "unionid": "u-1", "app_kind": "miniprogram"])
        let full = cache.verifier.verify(token, now: F.now)
        XCTAssertNotNil(full.claims)
        XCTAssertEqual(cache.verify(token, now: F.now), full)
        XCTAssertEqual(cache.verify(token, now: F.now), full, "the hit")
        XCTAssertEqual(cache.count, 1)
    }

    /// A hit hands out the claims the entry holds (one reference), not a copy of their fields; equal as before.
    func testHitSharesTheStoredClaims() throws {
        let cache = try makeCache()
        let token = F.hs256Token(["sid": "s-3"])
        let miss = try XCTUnwrap(cache.verify(token, now: F.now).claims)
        let first = try XCTUnwrap(cache.verify(token, now: F.now).claims)
        let second = try XCTUnwrap(cache.verify(token, now: F.now.addingTimeInterval(1)).claims)
        XCTAssertTrue(first.storage === second.storage, "both hits read the one stored entry")
        XCTAssertEqual(first, miss)
    }

    /// The key's hash reads the last 32 bytes as words: a change in any one of them is another key, and another
    /// token's own check.
    func testEachOfTheLastBytesTellsTokensApart() throws {
        let cache = try makeCache()
        let token = Array(F.hs256Token().utf8)
        XCTAssertNotNil(token.withUnsafeBytes { cache.verify(utf8: $0, now: F.now) }.claims)
        for offset in (token.count - 32)..<token.count {
            var changed = token
            changed[offset] = changed[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let result = changed.withUnsafeBytes { cache.verify(utf8: $0, now: F.now) }
            XCTAssertNil(result.claims, "byte \(offset) changed")
        }
        XCTAssertEqual(cache.count, 1)
    }

    /// Tokens shorter than the 32 bytes the hash reads take its byte path: each is looked up and checked on its own.
    func testShortTokensAreCheckedOnTheirOwn() throws {
        let cache = try makeCache()
        for length in 0...40 {
            let text = String(repeating: "a", count: length)
            let result = Array(text.utf8).withUnsafeBytes { cache.verify(utf8: $0, now: F.now) }
            XCTAssertRejected(result, .malformed)
        }
        XCTAssertEqual(cache.count, 0)
    }
}
