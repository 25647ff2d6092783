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
        if version == .http1_1 {
            buffer.writeStaticString("HTTP/1.1 ")
        } else {
            buffer.writeStaticString("HTTP/")
            Self.writeDecimal(version.major, into: &buffer)
            buffer.writeInteger(UInt8(ascii: "."))
            Self.writeDecimal(version.minor, into: &buffer)
            buffer.writeInteger(UInt8(ascii: " "))
        }
        // A code of three digits is a small string: no allocation.
        let code = (100...999).contains(status) ? String(status) : "000"
        writeLine(code, " ", HTTPResponseStatus(statusCode: status).reasonPhrase)
    }

    mutating func add(name: String, value: String) {
        writeLine(name, ": ", value)
    }

    /// Writes `first`, `separator`, `second` and CRLF. One copy into the buffer per line rather than four writes,
    /// each with its own capacity and uniqueness checks: a proxied head is a dozen of these.
    private mutating func writeLine(_ first: String, _ separator: StaticString, _ second: String) {
        let length = first.utf8.count + separator.utf8CodeUnitCount + second.utf8.count + 2
        let copied = first.utf8.withContiguousStorageIfAvailable { firstBytes in
            second.utf8.withContiguousStorageIfAvailable { secondBytes in
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
                    let base = out.baseAddress!
                    var offset = 0
                    func copy(_ bytes: UnsafeBufferPointer<UInt8>) {
                        guard let start = bytes.baseAddress else { return }
                        (base + offset).copyMemory(from: start, byteCount: bytes.count)
                        offset += bytes.count
                    }
                    copy(firstBytes)
                    copy(UnsafeBufferPointer(start: separator.utf8Start, count: separator.utf8CodeUnitCount))
                    copy(secondBytes)
                    base.storeBytes(of: UInt8(ascii: "\r"), toByteOffset: offset, as: UInt8.self)
                    base.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: offset + 1, as: UInt8.self)
                    return offset + 2
                }
            }
        }
        if case .some(.some) = copied { return }
        // A string without contiguous UTF-8 (bridged or lazily decoded): written piece by piece.
        buffer.writeString(first)
        buffer.writeStaticString(separator)
        buffer.writeString(second)
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
