import NIOCore
import NIOHTTP1

/// Writes a response head as the bytes the client reads: the status line, the fields, the blank line.
///
/// The gateway serialises its answers itself rather than through NIO's `HTTPResponseEncoder`: for a proxied answer
/// that encoder needs the upstream's fields copied into an `HTTPHeaders`, then copies that list again to adjust its
/// framing fields, then writes it; here the fields go from the upstream's list to the wire once.
struct ResponseHeadWriter {
    private(set) var buffer: ByteBuffer

    init(version: HTTPVersion, status: Int, allocator: ByteBufferAllocator, capacity: Int = 256) {
        buffer = allocator.buffer(capacity: capacity)
        buffer.writeStaticString("HTTP/")
        Self.writeDecimal(version.major, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "."))
        Self.writeDecimal(version.minor, into: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        Self.writeDecimal(status, into: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
        buffer.writeStaticString("\r\n")
    }

    mutating func add(name: String, value: String) {
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    mutating func add(_ headers: HTTPHeaders) {
        for (name, value) in headers { add(name: name, value: value) }
    }

    /// Ends the head with its blank line. Mutating rather than consuming: written in place, the buffer is uniquely
    /// referenced, where a consumed copy of the writer would make the last write copy the whole head.
    mutating func finish() -> ByteBuffer {
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// A status line alone, for an interim answer such as `100 Continue`.
    static func interim(version: HTTPVersion, status: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var head = ResponseHeadWriter(version: version, status: status, allocator: allocator, capacity: 32)
        return head.finish()
    }

    /// `value` in decimal; a negative one (no status or version has one) is written as 0.
    static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        guard value > 0 else {
            buffer.writeInteger(UInt8(ascii: "0"))
            return
        }
        if value >= 10 { writeDecimal(value / 10, into: &buffer) }
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value % 10))
    }
}
