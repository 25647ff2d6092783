import Foundation
import NIOConcurrencyHelpers

/// Remembers tokens that verified, so a client repeating its bearer token skips the signature check
/// and the JSON decoding.
///
/// What it promises:
/// - valid results are cached, keyed by the whole token text (no hash collision can map one
///   token onto another's claims); with an asymmetric key in the ring, signature failures are remembered
///   too, by SHA-256 of the token (``SignatureFailureCache``), so a repeated forgery costs one signature check;
/// - every hit re-checks expiry (with the verifier's leeway) and revocation, so an expired token is
///   never returned valid and a revocation takes effect at once;
/// - at most `capacity` entries; a full stripe first drops expired entries, then about half of the
///   rest (cheap, and the dropped tokens simply verify again on their next use);
/// - thread-safe for many event loops: entries are spread over independently locked stripes
///   (``TokenCacheTable``) and the token is hashed once, before the lock is taken, so a lock is held for one
///   table operation.
public final class CachingTokenVerifier: TokenVerifier {
    /// A cached verification, shared rather than copied: a hit takes one reference out of the lock, re-checks the
    /// claims in place, and hands them out as one more reference (``VerifiedClaims`` is one, to immutable storage).
    /// The session's revocation key is made once, when stored, rather than a `String` on every hit.
    private final class Entry: Sendable {
        let claims: VerifiedClaims
        /// `AccessTokenVerifier.sessionRevocationKey(claims.sessionID)`, nil without a session.
        let sessionRevocationKey: String?

        init(_ claims: VerifiedClaims) {
            self.claims = claims
            self.sessionRevocationKey = claims.sessionID.map(AccessTokenVerifier.sessionRevocationKey)
        }
    }

    /// The verifier that does the real work on a miss and the re-checks on a hit.
    public let verifier: AccessTokenVerifier
    /// The most entries held at once.
    public let capacity: Int
    private let stripeCapacity: Int
    private let stripes: [NIOLockedValueBox<TokenCacheTable<Entry>>]

    /// Forged tokens already refused, when the ring holds an asymmetric key (an HMAC check is cheaper than the
    /// lookup would be, so an HS256-only ring keeps none).
    private let failures: SignatureFailureCache?

    /// - Parameters:
    ///   - capacity: the bound on cached tokens (at least 1).
    ///   - stripeCount: independently locked partitions; more than the number of event loops keeps
    ///     contention low.
    ///   - failureCapacity: the bound on remembered signature failures (``SignatureFailureCache``, 32 bytes each).
    public init(
        wrapping verifier: AccessTokenVerifier, capacity: Int = 10_000, stripeCount: Int = 16,
        failureCapacity: Int = 10_000
    ) {
        let capacity = max(1, capacity)
        let stripeCount = min(max(1, stripeCount), capacity)
        self.verifier = verifier
        self.capacity = capacity
        self.stripeCapacity = capacity / stripeCount
        self.stripes = (0..<stripeCount).map { _ in NIOLockedValueBox(TokenCacheTable()) }
        let asymmetric = verifier.keyRing.keys.contains { $0.algorithm.isAsymmetric }
        self.failures = asymmetric ? SignatureFailureCache(capacity: failureCapacity, stripeCount: stripeCount) : nil
    }

    public func verify(_ token: Substring, now: Date) -> TokenVerification {
        var token = token
        return token.withUTF8 { verify(utf8: UnsafeRawBufferPointer($0), now: now) }
    }

    public func verify(utf8 bytes: UnsafeRawBufferPointer, now: Date) -> TokenVerification {
        guard bytes.count <= verifier.maximumTokenLength else { return .invalid(.malformed) }
        // Hashed once, and looked up with the caller's bytes where they lie: no key, no copy per request.
        let hash = TokenCacheTable<Entry>.hash(of: bytes)
        let stripe = stripes[Int(UInt(bitPattern: hash) % UInt(stripes.count))]

        if let entry = stripe.withLockedValue({ $0.value(for: bytes, hash: hash) }) {
            let result = verifier.recheck(
                entry.claims, sessionRevocationKey: entry.sessionRevocationKey, now: now)
            // A pattern, not `==`: the synthesized `==` copies both sides, claims included, on every hit.
            if case .invalid(.expired) = result {
                stripe.withLockedValue { $0.removeValue(for: bytes, hash: hash) }
            }
            return result
        }

        // A miss: the verifier reads text.
        let token = String(decoding: bytes, as: UTF8.self)[...]
        // A forgery seen before is refused without its signature check (see SignatureFailureCache).
        let failureDigest = failures.map { _ in SignatureFailureCache.digest(token) }
        if let failures, let failureDigest, failures.contains(failureDigest) { return .invalid(.badSignature) }

        let result = verifier.verify(token, now: now)
        if case .invalid(.badSignature) = result, let failures, let failureDigest {
            failures.insert(failureDigest)
        }
        if case .valid(let claims) = result {
            let storedToken = Array(bytes)  // copied before the lock is taken
            let entry = Entry(claims)
            let stripeCapacity = self.stripeCapacity
            let leeway = verifier.leeway
            stripe.withLockedValue { entries in
                if entries.count >= stripeCapacity {
                    Self.evict(&entries, capacity: stripeCapacity, expiredBefore: now.addingTimeInterval(-leeway))
                }
                entries.updateValue(entry, for: storedToken, hash: hash)
            }
        }
        return result
    }

    /// The number of cached tokens.
    public var count: Int {
        stripes.reduce(0) { $0 + $1.withLockedValue { $0.count } }
    }

    /// The number of remembered signature failures (0 with an HS256-only ring).
    public var failureCount: Int { failures?.count ?? 0 }

    /// How many verifications were refused from the failure cache without a signature check.
    public var failureHits: Int { failures?.hits ?? 0 }

    /// Forgets every cached token and remembered failure (for example after a key-ring reload).
    public func removeAll() {
        for stripe in stripes {
            stripe.withLockedValue { $0.removeAll() }
        }
        failures?.removeAll()
    }

    private static func evict(_ entries: inout TokenCacheTable<Entry>, capacity: Int, expiredBefore cutoff: Date) {
        entries.filter { $0.claims.expiresAt > cutoff }
        guard entries.count >= capacity else { return }
        // Slot order follows the per-process random hash seed, so every other entry is an
        // arbitrary half: no bookkeeping on the hit path, unlike LRU.
        var keep = false
        entries.filter { _ in
            keep.toggle()
            return keep
        }
    }
}
