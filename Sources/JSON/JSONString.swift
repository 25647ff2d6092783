/// JSON string escaping (RFC 8259 section 7) for the small JSON documents built by hand: token headers and
/// claims here, and the gateway's error bodies, token responses and access-log lines, which run on every
/// request and would cost more through a JSON encoder than the request itself.
///
/// The rules live in one place, the byte escaper `escape(_:into:)`; the `String`-returning `escape(_:)` is built on
/// it, so every document the gateway writes escapes the same text to the same bytes: `"` and `\` with a backslash,
/// `\n`, `\r` and `\t` as such, other characters below U+0020 as `\u00xx` with lowercase hex, everything else
/// (U+007F and all non-ASCII included) as its UTF-8 bytes.
public enum JSONString {
    /// `value` with `"`, `\` and control characters escaped, without the surrounding quotes.
    /// Text that needs no escaping (the usual case) is returned without being copied scalar by scalar.
    public static func escape(_ value: some StringProtocol) -> String {
        withContiguousUTF8(value) { bytes in
            guard bytes.contains(where: needsEscape) else { return String(value) }
            var escaped: [UInt8] = []
            escaped.reserveCapacity(bytes.count + 8)
            appendEscaped(bytes, to: &escaped)
            // Valid UTF-8 in, only ASCII bytes replaced by ASCII: decoding repairs nothing.
            return String(decoding: escaped, as: UTF8.self)
        }
    }

    /// Appends the UTF-8 of `value`, escaped as `escape(_:)` escapes it and without quotes, to `buffer`. For lines
    /// written as bytes (the access log, once per request): no `String` is built, and runs of text that need no
    /// escaping are copied in one go.
    @inlinable
    public static func escape(_ value: some StringProtocol, into buffer: inout [UInt8]) {
        // Inlinable so callers get it specialized for `String` and `Substring`; the rules stay in `appendEscaped`.
        withContiguousUTF8(value) { appendEscaped($0, to: &buffer) }
    }

    /// `value` as a JSON string literal, quotes included.
    public static func quoted(_ value: String) -> String {
        "\"" + escape(value) + "\""
    }

    /// Calls `body` with the UTF-8 of `value` in one buffer: in place for native strings and their slices, from a
    /// copy for the rare text stored otherwise (a bridged `NSString`), so there is one byte loop, not two.
    @inlinable
    static func withContiguousUTF8<Result>(
        _ value: some StringProtocol, _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        if let result = value.utf8.withContiguousStorageIfAvailable(body) {
            return result
        }
        var copy = String(value)
        return copy.withUTF8(body)
    }

    /// Whether RFC 8259 section 7 requires `byte` to be escaped. Every byte of a multi-byte UTF-8 sequence is 0x80 or
    /// above, so deciding byte by byte escapes exactly the scalars below U+0020, `"` and `\`.
    @inlinable
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// `needsEscape` for every byte value, so the scan after the first escape is one load per byte.
    private static let escapeTable: [Bool] = (0...255).map { needsEscape(UInt8($0)) }

    /// Writes `bytes` escaped as `escape(_:)` escapes them to `out`, which has room for the worst case, 6 bytes per
    /// byte (`\u00xx`); returns how many bytes it wrote. For lines written in place (`JSONByteCursor`, the access
    /// log): text that needs no escaping, the usual case, is one scan of 8 bytes at a time and one copy, without
    /// touching the table (a lazily built global: a once-check and an array access per string). Inlinable, so the
    /// scan and the copy are in the caller's code (`JSONByteCursor.appendString`), not one more call per string; what
    /// follows a first escape is not.
    @inlinable @inline(__always)
    static func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        let count = bytes.count
        var clean = 0
        // Whole words first: a word without any byte to escape is skipped at once; the first word that holds one
        // (the word test says whether, not where) and the last few bytes are looked at byte by byte.
        while count &- clean >= 8, !hasByteToEscape(UnsafeRawPointer(base + clean).loadUnaligned(as: UInt64.self)) {
            clean &+= 8
        }
        while clean < count, !needsEscape(base[clean]) {
            clean &+= 1
        }
        out.initialize(from: base, count: clean)
        guard clean < count else { return count }
        let rest = UnsafeBufferPointer(start: base + clean, count: count &- clean)
        return clean &+ writeEscapedFromFirstEscape(rest, to: out + clean)
    }

    /// Whether any of the 8 bytes in `word` is one `needsEscape` picks, in either byte order: below 0x20, `"` or
    /// `\`. Each test is the exact "has a byte less than n" / "has a zero byte" word test: subtracting borrows into
    /// a byte's top bit only below a byte that itself matched, and bytes of 0x80 and above are masked out by `~word`.
    @inlinable @inline(__always)
    static func hasByteToEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ 0x2222_2222_2222_2222  // zero bytes where `word` has `"`
        let backslashes = word ^ 0x5C5C_5C5C_5C5C_5C5C  // zero bytes where `word` has `\`
        let below = (word &- ones &* 0x20) & ~word
        let isQuote = (quotes &- ones) & ~quotes
        let isBackslash = (backslashes &- ones) & ~backslashes
        return (below | isQuote | isBackslash) & highBits != 0
    }

    /// `bytes` starts with a byte to escape: writes them escaped, copying the runs between escapes in bulk.
    @usableFromInline
    static func writeEscapedFromFirstEscape(
        _ bytes: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>
    ) -> Int {
        let base = bytes.baseAddress!
        return escapeTable.withUnsafeBufferPointer { table in
            var written = 0
            var runStart = 0
            for index in 0..<bytes.count where table[Int(base[index])] {
                (out + written).initialize(from: base + runStart, count: index - runStart)
                written += index - runStart
                written += writeEscape(for: base[index], to: out + written)
                runStart = index + 1
            }
            (out + written).initialize(from: base + runStart, count: bytes.count - runStart)
            return written + bytes.count - runStart
        }
    }

    /// Appends `bytes` escaped to `buffer`, copying the runs between bytes that need escaping in bulk.
    @usableFromInline
    static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        var runStart = 0
        for index in bytes.indices where needsEscape(bytes[index]) {
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            appendEscape(for: bytes[index], to: &buffer)
            runStart = index + 1
        }
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
    }

    /// `byte` is one that `needsEscape` picked; appends what `writeEscape` writes for it.
    private static func appendEscape(for byte: UInt8, to buffer: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 6) { escape in
            let count = writeEscape(for: byte, to: escape.baseAddress!)
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: escape[..<count]))
        }
    }

    /// `byte` is one that `needsEscape` picked: writes a backslash, then the byte's short form or `u00` and two
    /// lowercase hex digits, as `String(_:radix: 16)` writes them, to `out` (room for 6); returns 2 or 6.
    private static func writeEscape(for byte: UInt8, to out: UnsafeMutablePointer<UInt8>) -> Int {
        out[0] = backslash
        switch byte {
        case quote, backslash: out[1] = byte
        case UInt8(ascii: "\n"): out[1] = UInt8(ascii: "n")
        case UInt8(ascii: "\r"): out[1] = UInt8(ascii: "r")
        case UInt8(ascii: "\t"): out[1] = UInt8(ascii: "t")
        default:
            out[1] = UInt8(ascii: "u")
            out[2] = zero
            out[3] = zero
            out[4] = hexDigit(byte >> 4)
            out[5] = hexDigit(byte & 0x0F)
            return 6
        }
        return 2
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? zero &+ nibble : UInt8(ascii: "a") &+ (nibble &- 10)
    }

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")
    private static let zero = UInt8(ascii: "0")
}
