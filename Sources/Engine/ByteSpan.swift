/// A range of bytes in a connection's read buffer, by offset: the parser records where a head's parts are, and nothing
/// is copied out of the buffer until something really needs its own copy (issue 23, "Parsing").
public struct ByteSpan: Sendable, Equatable {
    public var start: Int
    public var count: Int

    public init(start: Int, count: Int) {
        self.start = start
        self.count = count
    }

    public static let empty = ByteSpan(start: 0, count: 0)

    public var end: Int { start + count }

    /// The span's bytes in `buffer`, which must be the buffer the span was recorded in.
    public func bytes(in buffer: UnsafeRawPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: buffer + start, count: count)
    }

    /// Without trailing spaces and tabs (RFC 9110 section 5.5: optional whitespace around a field value).
    public func trimmingTrailingWhitespace(in buffer: UnsafeRawPointer) -> ByteSpan {
        var count = self.count
        while count > 0 {
            let byte = buffer.load(fromByteOffset: start + count - 1, as: UInt8.self)
            guard byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") else { break }
            count -= 1
        }
        return ByteSpan(start: start, count: count)
    }
}
