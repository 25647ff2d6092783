/// Writes JSON text (RFC 8259) through a pointer into space the caller reserved beforehand, with the same output as
/// `JSONByteWriter`. For the access log, which writes one line per request: it reserves the line's upper bound once
/// (`Array.append(addingCapacity:initializingWith:)`), then each piece is a store or a copy instead of an
/// `Array.append` with its uniqueness and capacity checks, and text that needs no escaping is one scan and one copy.
///
/// Every write checks once per piece (not per byte) that it stays inside the reserved space, so a wrong bound stops
/// the process rather than writing past the space.
///
/// The small writes are `@inline(__always)`: left to the optimizer, the access log called `appendRaw` out of line for
/// each of its keys (11 calls a line, each with a `memmove` of a length it only knew at run time); inlined, a key is
/// a constant, and its copy a few stores.
public struct JSONByteCursor {
    @usableFromInline var next: UnsafeMutablePointer<UInt8>
    @usableFromInline let start: UnsafeMutablePointer<UInt8>
    @usableFromInline let end: UnsafeMutablePointer<UInt8>

    /// A cursor at the start of `space`.
    @inlinable
    public init(_ space: UnsafeMutableBufferPointer<UInt8>) {
        // An empty buffer may have no address; one byte of dummy space is never written, as every write checks.
        start = space.baseAddress ?? UnsafeMutablePointer(bitPattern: 1)!
        next = start
        end = start + space.count
    }

    /// How many bytes were written so far.
    @inlinable
    public var count: Int { next - start }

    /// The most `appendString` writes for `value`: quotes, and 6 bytes (`\u00xx`) per byte of UTF-8; 0 for nil.
    @inlinable
    public static func maximumLength(ofString value: (some StringProtocol)?) -> Int {
        guard let value else { return 0 }
        return value.utf8.count &* 6 &+ 2
    }

    /// Moves past `count` bytes that the caller then writes, after checking they fit.
    @inlinable @inline(__always)
    public mutating func advance(by count: Int) -> UnsafeMutablePointer<UInt8> {
        precondition(count >= 0 && end - next >= count, "JSONByteCursor: the reserved space is too small")
        let position = next
        next += count
        return position
    }

    @inlinable @inline(__always)
    public mutating func appendByte(_ byte: UInt8) {
        advance(by: 1).initialize(to: byte)
    }

    /// Appends text that needs no escaping, such as `,"status":`.
    @inlinable @inline(__always)
    public mutating func appendRaw(_ text: StaticString) {
        appendBytes(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `bytes` as they are.
    @inlinable @inline(__always)
    public mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        advance(by: bytes.count).initialize(from: base, count: bytes.count)
    }

    /// Appends `value` as a JSON string literal, quotes included, escaped by `JSONString`. Specialised for the
    /// caller's string type but kept out of line: its rare path (text not stored as contiguous UTF-8) is copied into
    /// every caller otherwise, once per member of the access log's line.
    @inlinable @inline(never)
    public mutating func appendString(_ value: some StringProtocol) {
        JSONString.withContiguousUTF8(value) { bytes in
            precondition(end - next >= bytes.count &* 6 &+ 2, "JSONByteCursor: the reserved space is too small")
            // The quote as a literal: `JSONByteWriter.quote`, a global of another module, is read through a call.
            next.initialize(to: UInt8(ascii: "\""))
            next += 1
            next += JSONString.writeEscaped(bytes, to: next)
            next.initialize(to: UInt8(ascii: "\""))
            next += 1
        }
    }

    /// Appends `member` (the raw `,"key":` text) and `value` as a string literal; nothing when `value` is nil.
    @inlinable @inline(__always)
    public mutating func appendMember(_ member: StaticString, _ value: (some StringProtocol)?) {
        guard let value else { return }
        appendRaw(member)
        appendString(value)
    }

    /// Appends `member` (the raw `,"key":` text) and `value` in decimal.
    @inlinable @inline(__always)
    public mutating func appendMember(_ member: StaticString, _ value: Int) {
        appendRaw(member)
        appendInteger(value)
    }

    /// Appends `value` in decimal, as `String(value)` writes it.
    @inlinable
    public mutating func appendInteger(_ value: Int) {
        if value < 0 { appendByte(UInt8(ascii: "-")) }
        appendDigits(value.magnitude)
    }

    /// Appends the decimal digits of `value`, most significant first.
    @inlinable
    public mutating func appendDigits(_ value: UInt) {
        let count = JSONByteWriter.digitCount(value)
        let digits = advance(by: count)
        var rest = value
        var index = count
        repeat {
            index -= 1
            let (quotient, digit) = rest.quotientAndRemainder(dividingBy: 10)
            digits[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: digit)
            rest = quotient
        } while rest != 0
    }

    /// Appends `value` as exactly 16 lowercase hex digits (`Hex.write`).
    @inlinable
    public mutating func appendHex(_ value: UInt64) {
        Hex.write(value, into: UnsafeMutableBufferPointer(start: advance(by: 16), count: 16))
    }
}

extension JSONByteCursor {
    /// Reserves `maximumLength` bytes at the end of `buffer` (growing it geometrically, as appends do) and calls
    /// `write` with a cursor over them; what it wrote is appended, the rest is not.
    ///
    /// Deliberately not `@inlinable`: where the optimizer can see this body it specialises it for the caller's
    /// closure, and the specialisation takes what the closure captured as an owned argument. For the access log that
    /// was the whole `AccessLogEntry`, copied (a retain of each String) and destroyed again once per line (profile:
    /// `outlined init with copy of AccessLogEntry` under `AccessLogger.record`). Called out of line, the closure
    /// holds the entry's address, and the entry is never copied.
    public static func append(
        to buffer: inout [UInt8], reserving maximumLength: Int, _ write: (inout JSONByteCursor) -> Void
    ) {
        buffer.append(addingCapacity: maximumLength) { span in
            span.withUnsafeMutableBufferPointer { space, count in
                var cursor = JSONByteCursor(space)
                write(&cursor)
                count = cursor.count
            }
        }
    }
}
