/// Case-insensitive comparisons of ASCII header names without allocating a lower-cased copy: the proxy
/// compares every header of every request against a handful of names.
enum ASCIICase {
    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte | 0x20 : byte }

    /// `name` equals `lowercased` (already lower-case) ignoring ASCII case.
    @inline(__always)
    static func equals(_ name: some StringProtocol, _ lowercased: String) -> Bool {
        let a = name.utf8
        let b = lowercased.utf8
        guard a.count == b.count else { return false }
        var i = b.startIndex
        for byte in a {
            if lower(byte) != b[i] { return false }
            i = b.index(after: i)
        }
        return true
    }

    /// `name` equals `canonical` (lower-case, `-` for `_`) once folded the same way, as `HeaderName.canonical` does.
    static func equalsCanonical(_ name: some StringProtocol, _ canonical: String) -> Bool {
        let a = name.utf8
        let b = canonical.utf8
        guard a.count == b.count else { return false }
        var i = b.startIndex
        for byte in a {
            let folded = byte == UInt8(ascii: "_") ? UInt8(ascii: "-") : lower(byte)
            if folded != b[i] { return false }
            i = b.index(after: i)
        }
        return true
    }
}
