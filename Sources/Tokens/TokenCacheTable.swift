import Foundation

/// One stripe of ``CachingTokenVerifier``: tokens, each with its value, in an open-addressing table (linear probing)
/// looked up by a hash the caller computed once.
///
/// Why not a `Dictionary`: its key's `hash(into:)` ran a second `Hasher` over the token's already computed hash, then
/// `find` compared keys through `==` (profile: `Hasher.init`, `Hasher._combine` and `__RawDictionaryStorage.find`
/// under `CachingTokenVerifier.verify`). Here the stored hash is compared as a word, and a lookup borrows the caller's
/// bytes: no key, no copy of the token per request.
///
/// What it promises:
/// - a lookup returns a value only for a token whose stored bytes are byte-equal to the presented ones: the hash only
///   chooses where to look and skips unequal slots, so two tokens whose hashes collide keep their own entries;
/// - every stored token is a copy, never the caller's memory;
/// - at most half the slots are used (a short probe on a hit and on a miss), and the slots grow with the count only,
///   so the memory is bounded by what the caller's capacity lets it hold; removal shifts the probe run back
///   (no tombstones), so a table that churns never fills with them.
struct TokenCacheTable<Value: Sendable>: Sendable {
    /// A stored token and its value.
    private struct Slot: Sendable {
        let token: [UInt8]
        var value: Value
    }

    /// Per slot, the stored token's ``tag(_:)``; 0: empty. Probed on their own, so a miss reads words, not slots.
    private var tags: [Int] = []
    /// Per slot, the token and value when `tags` says it is used.
    private var slots: [Slot?] = []
    /// The number of stored tokens.
    private(set) var count = 0

    init() {}

    /// The hash the table's callers compute once per token, outside their lock: the keyed SipHash of `Hasher` over
    /// the length and the last 32 bytes as four unaligned words when there are that many (`combine(UInt64)` is
    /// inlined, where `combine(bytes:)` is a call that walks an unaligned start and end byte by byte), else over all
    /// the bytes. A JWT ends in its signature, which differs between any two tokens stored (only verified tokens
    /// are), and hashing 32 bytes rather than all of them is most of the hash's cost; equality compares every byte.
    static func hash(of token: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(token.count)
        if token.count >= 32 {
            let last = token.count - 32
            hasher.combine(token.loadUnaligned(fromByteOffset: last, as: UInt64.self))
            hasher.combine(token.loadUnaligned(fromByteOffset: last + 8, as: UInt64.self))
            hasher.combine(token.loadUnaligned(fromByteOffset: last + 16, as: UInt64.self))
            hasher.combine(token.loadUnaligned(fromByteOffset: last + 24, as: UInt64.self))
        } else {
            hasher.combine(bytes: token)
        }
        return hasher.finalize()
    }

    /// The value stored for exactly `token`'s bytes; `hash` is `hash(of: token)` (or any function of the bytes alone).
    func value(for token: UnsafeRawBufferPointer, hash: Int) -> Value? {
        guard let found = index(of: token, hash: hash) else { return nil }
        return slots[found]?.value
    }

    /// Stores `value` for `token` (copied), replacing the value an equal token had.
    mutating func updateValue(_ value: Value, for token: [UInt8], hash: Int) {
        if let found = token.withUnsafeBytes({ index(of: $0, hash: hash) }) {
            slots[found]?.value = value
            return
        }
        if (count + 1) * 2 > tags.count { resize(to: Swift.max(8, tags.count * 2)) }
        var free = home(hash)
        while tags[free] != 0 { free = (free + 1) & (tags.count - 1) }
        tags[free] = Self.tag(hash)
        slots[free] = Slot(token: token, value: value)
        count += 1
    }

    /// Forgets `token`, if stored.
    mutating func removeValue(for token: UnsafeRawBufferPointer, hash: Int) {
        guard var hole = index(of: token, hash: hash) else { return }
        // Backward-shift deletion: every later slot of the probe run whose home is not between the hole and itself
        // moves into the hole, so each stored token stays reachable from its home without a gap.
        let mask = tags.count - 1
        var next = (hole + 1) & mask
        while tags[next] != 0 {
            let start = home(tags[next])
            if (next - start) & mask >= (next - hole) & mask {
                tags[hole] = tags[next]
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        tags[hole] = 0
        slots[hole] = nil
        count -= 1
    }

    /// Keeps the tokens whose value `isIncluded` accepts, asked in slot order (an order that follows the hashes, so
    /// arbitrary but without bookkeeping), each once.
    mutating func filter(_ isIncluded: (Value) -> Bool) {
        let old = slots
        let oldTags = tags
        tags = Array(repeating: 0, count: oldTags.count)
        slots = Array(repeating: nil, count: oldTags.count)
        count = 0
        for index in old.indices {
            guard let slot = old[index], isIncluded(slot.value) else { continue }
            insertNew(slot, tag: oldTags[index])
        }
    }

    /// Forgets every token and frees the slots.
    mutating func removeAll() {
        tags = []
        slots = []
        count = 0
    }

    /// The slot holding exactly `token`, found by its hash's word and then every byte.
    private func index(of token: UnsafeRawBufferPointer, hash: Int) -> Int? {
        guard count > 0 else { return nil }
        let tag = Self.tag(hash)
        let mask = tags.count - 1
        let start = home(hash)
        return tags.withUnsafeBufferPointer { tags in
            var probe = start
            while tags[probe] != 0 {
                if tags[probe] == tag, slots[probe]?.token.withUnsafeBytes({ Self.equal($0, token) }) == true {
                    return probe
                }
                probe = (probe + 1) & mask
            }
            return nil
        }
    }

    private static func equal(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
        left.count == right.count && (left.count == 0 || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
    }

    /// Never 0 (the empty slot's mark); a hash of 0 shares its tag with 1, which only costs a byte comparison.
    private static func tag(_ hash: Int) -> Int { hash == 0 ? 1 : hash }

    /// Where a hash's probe starts: its high 32 bits, since the caller chose the stripe by the low ones. The same for
    /// a hash and its tag (they differ only in the lowest bit).
    private func home(_ hash: Int) -> Int {
        Int(truncatingIfNeeded: UInt64(UInt(bitPattern: hash)) >> 32) & (tags.count - 1)
    }

    /// Doubles (or first makes) the slots; `slotCount` is a power of two.
    private mutating func resize(to slotCount: Int) {
        let old = slots
        let oldTags = tags
        tags = Array(repeating: 0, count: slotCount)
        slots = Array(repeating: nil, count: slotCount)
        count = 0
        for index in old.indices {
            if let slot = old[index] { insertNew(slot, tag: oldTags[index]) }
        }
    }

    /// Places a slot known not to be stored, in a table with room for it.
    private mutating func insertNew(_ slot: Slot, tag: Int) {
        var free = home(tag)
        while tags[free] != 0 { free = (free + 1) & (tags.count - 1) }
        tags[free] = tag
        slots[free] = slot
        count += 1
    }
}
