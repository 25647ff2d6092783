/// Lowercase hexadecimal, the one encoder for digests, signatures and identifiers.
public enum Hex {
    @usableFromInline static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Two lowercase digits per byte.
    public static func lowercase(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes `value` as exactly 16 lowercase digits into `buffer` (which has room for them), most significant
    /// first: for identifiers written in place, without a `String` per part.
    @inlinable
    public static func write(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>) {
        // Arithmetic, not the `digits` table: the table is a lazily initialised global, reached through a call to its
        // accessor every time (twice per access-log line, where every trace id is written, and per request id).
        precondition(buffer.count >= 16, "Hex.write: 16 bytes of room needed")
        let out = buffer.baseAddress!
        for index in 0..<16 {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * index)) & 0xf
            // "0"-"9" are 0x30-0x39, "a"-"f" are 0x61-0x66 (0x57 + 10...15).
            out[index] = nibble &+ (nibble < 10 ? 0x30 : 0x57)
        }
    }
}
