/// Appends JSON text (RFC 8259) straight to a byte buffer: `JSONValue.serialized` and the documents built with
/// `JSONObjectWriter` (the access log writes the same text through `JSONByteCursor`, into space reserved once per
/// line). Strings are escaped by `JSONString`, the one place the escaping rules live, so all the gateway's JSON
/// escapes text alike.
///
/// Everything here is `@inlinable`: called from other modules, the generic `some StringProtocol` calls would not be
/// specialised there without the bodies.
public enum JSONByteWriter {
    /// Appends text that needs no escaping, such as `,"status":`.
    @inlinable
    public static func appendRaw(_ text: StaticString, to buffer: inout [UInt8]) {
        text.withUTF8Buffer { buffer.append(contentsOf: $0) }
    }

    /// Appends `value` as a JSON string literal, quotes included.
    @inlinable
    public static func appendString(_ value: some StringProtocol, to buffer: inout [UInt8]) {
        buffer.append(quote)
        JSONString.escape(value, into: &buffer)
        buffer.append(quote)
    }

    /// Appends `member` (the raw `,"key":` text) and `value` as a string literal; nothing when `value` is nil, so
    /// optional fields are simply left out of the object.
    @inlinable
    public static func appendMember(_ member: StaticString, _ value: (some StringProtocol)?, to buffer: inout [UInt8]) {
        guard let value else { return }
        appendRaw(member, to: &buffer)
        appendString(value, to: &buffer)
    }

    /// Appends `member` (the raw `,"key":` text) and `value` in decimal.
    @inlinable
    public static func appendMember(_ member: StaticString, _ value: Int, to buffer: inout [UInt8]) {
        appendRaw(member, to: &buffer)
        appendInteger(value, to: &buffer)
    }

    /// Appends `value` in decimal, as `String(value)` writes it.
    @inlinable
    public static func appendInteger(_ value: Int, to buffer: inout [UInt8]) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude, to: &buffer)
    }

    /// Appends the decimal digits of `value`, most significant first.
    @inlinable
    public static func appendDigits(_ value: UInt, to buffer: inout [UInt8]) {
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
    @inlinable
    public static func digitCount(_ value: UInt) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }

    @usableFromInline static let quote = UInt8(ascii: "\"")
    @usableFromInline static let zero = UInt8(ascii: "0")
}
