/// Appends JSON text (RFC 8259) straight to a byte buffer, for the access log: one line per request, written into
/// the log's own buffer without a `String` on the way. Strings are escaped by the rules of `Tokens.JSONString.escape`
/// (`"`, `\`, `\n`, `\r`, `\t`, other controls below U+0020 as `\u00xx`), so both produce the same bytes.
enum JSONByteWriter {
    /// Appends text that needs no escaping, such as `,"status":`.
    static func appendRaw(_ text: StaticString, to buffer: inout [UInt8]) {
        text.withUTF8Buffer { buffer.append(contentsOf: $0) }
    }

    /// Appends `value` as a JSON string literal, quotes included.
    static func appendString(_ value: String, to buffer: inout [UInt8]) {
        buffer.append(quote)
        if value.utf8.withContiguousStorageIfAvailable({ appendEscaped($0, to: &buffer) }) == nil {
            appendEscaped(value.utf8, to: &buffer)
        }
        buffer.append(quote)
    }

    /// Appends `value` as a JSON string literal, quotes included.
    static func appendString(_ value: Substring, to buffer: inout [UInt8]) {
        buffer.append(quote)
        if value.utf8.withContiguousStorageIfAvailable({ appendEscaped($0, to: &buffer) }) == nil {
            appendEscaped(value.utf8, to: &buffer)
        }
        buffer.append(quote)
    }

    /// Appends `value` in decimal, as `String(value)` writes it.
    static func appendInteger(_ value: Int, to buffer: inout [UInt8]) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude, to: &buffer)
    }

    /// Appends the decimal digits of `value`, most significant first.
    static func appendDigits(_ value: UInt, to buffer: inout [UInt8]) {
        // Written least significant first, then turned around in place: no scratch buffer.
        let start = buffer.count
        var rest = value
        repeat {
            let (quotient, digit) = rest.quotientAndRemainder(dividingBy: 10)
            buffer.append(zero &+ UInt8(truncatingIfNeeded: digit))
            rest = quotient
        } while rest != 0
        var low = start
        var high = buffer.count - 1
        while low < high {
            buffer.swapAt(low, high)
            low += 1
            high -= 1
        }
    }

    /// How many decimal digits `appendDigits` writes for `value`.
    static func digitCount(_ value: UInt) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")
    private static let zero = UInt8(ascii: "0")

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == quote || byte == backslash
    }

    /// Copies runs that need no escaping in one go. Bytes of multi-byte UTF-8 sequences are all 0x80 or above, so
    /// checking bytes rather than scalars escapes exactly what `JSONString.escape` escapes.
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        var runStart = 0
        for index in bytes.indices where needsEscape(bytes[index]) {
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            appendEscape(for: bytes[index], to: &buffer)
            runStart = index + 1
        }
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
    }

    /// For text not stored contiguously as UTF-8 (bridged strings).
    private static func appendEscaped(_ bytes: some Sequence<UInt8>, to buffer: inout [UInt8]) {
        for byte in bytes {
            if needsEscape(byte) {
                appendEscape(for: byte, to: &buffer)
            } else {
                buffer.append(byte)
            }
        }
    }

    private static func appendEscape(for byte: UInt8, to buffer: inout [UInt8]) {
        switch byte {
        case quote: appendRaw("\\\"", to: &buffer)
        case backslash: appendRaw("\\\\", to: &buffer)
        case UInt8(ascii: "\n"): appendRaw("\\n", to: &buffer)
        case UInt8(ascii: "\r"): appendRaw("\\r", to: &buffer)
        case UInt8(ascii: "\t"): appendRaw("\\t", to: &buffer)
        default:
            // Only bytes below 0x20 get here: `\u00` and two lowercase hex digits, as `String(_:radix: 16)` writes.
            appendRaw("\\u00", to: &buffer)
            buffer.append(hexDigit(byte >> 4))
            buffer.append(hexDigit(byte & 0x0F))
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? zero &+ nibble : UInt8(ascii: "a") &+ (nibble &- 10)
    }
}
