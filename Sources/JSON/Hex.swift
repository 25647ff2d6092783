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
        // Through the table's pointer: a nibble is always inside it, and an `Array` subscript would check each one
        // (twice per access-log line, where every trace id is written).
        digits.withUnsafeBufferPointer { digits in
            for index in 0..<16 {
                buffer[index] = digits[Int((value >> UInt64(60 - 4 * index)) & 0xf)]
            }
        }
    }
}
