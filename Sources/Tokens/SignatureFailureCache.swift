import Crypto
import NIOConcurrencyHelpers

/// Tokens whose signature did not verify, remembered so that the same forged token sent again and again costs one
/// asymmetric signature check (ES256, RS256 and EdDSA checks cost tens of microseconds each) instead of one per
/// request.
///
/// What it promises:
/// - an entry is the SHA-256 of the exact token bytes: two tokens share an entry only if they are the same bytes
///   (a second preimage of SHA-256 is out of reach), and each entry costs 32 bytes whatever the token's length;
/// - only signature failures are stored. A token's signature never changes, and the keys it is checked against are
///   fixed for the life of the verifier (a reload builds a new verifier and so a new, empty cache), so a remembered
///   failure can never hide a token that would now verify;
/// - at most `capacity` entries: a full stripe drops about half of its entries (the dropped forgeries are simply
///   checked again if they come back);
/// - thread-safe, striped like ``CachingTokenVerifier``'s success cache.
final class SignatureFailureCache: Sendable {
    private struct Stripe {
        var digests: Set<SHA256Digest> = []
        /// Lookups answered from this stripe, for tests and operators.
        var hits = 0
    }

    let capacity: Int
    private let stripeCapacity: Int
    private let stripes: [NIOLockedValueBox<Stripe>]

    init(capacity: Int, stripeCount: Int) {
        let capacity = max(1, capacity)
        let stripeCount = min(max(1, stripeCount), capacity)
        self.capacity = capacity
        self.stripeCapacity = capacity / stripeCount
        self.stripes = (0..<stripeCount).map { _ in NIOLockedValueBox(Stripe()) }
    }

    /// The key of `token`, computed outside any lock.
    static func digest(_ token: Substring) -> SHA256Digest {
        if let digest = token.utf8.withContiguousStorageIfAvailable({ SHA256.hash(data: UnsafeRawBufferPointer($0)) }) {
            return digest
        }
        return SHA256.hash(data: Array(token.utf8))
    }

    /// Whether `digest` failed before; counts a hit when it did.
    func contains(_ digest: SHA256Digest) -> Bool {
        stripe(for: digest).withLockedValue { stripe in
            guard stripe.digests.contains(digest) else { return false }
            stripe.hits += 1
            return true
        }
    }

    func insert(_ digest: SHA256Digest) {
        let stripeCapacity = self.stripeCapacity
        stripe(for: digest).withLockedValue { stripe in
            if stripe.digests.count >= stripeCapacity {
                // Set order follows the per-process random hash seed: every other entry is an arbitrary half.
                var keep = false
                stripe.digests = stripe.digests.filter { _ in
                    keep.toggle()
                    return keep
                }
            }
            stripe.digests.insert(digest)
        }
    }

    /// The number of remembered failures.
    var count: Int { stripes.reduce(0) { $0 + $1.withLockedValue { $0.digests.count } } }

    /// How many lookups were answered from the cache.
    var hits: Int { stripes.reduce(0) { $0 + $1.withLockedValue { $0.hits } } }

    func removeAll() {
        for stripe in stripes {
            stripe.withLockedValue { $0.digests.removeAll() }
        }
    }

    private func stripe(for digest: SHA256Digest) -> NIOLockedValueBox<Stripe> {
        stripes[Int(UInt(bitPattern: digest.hashValue) % UInt(stripes.count))]
    }
}
