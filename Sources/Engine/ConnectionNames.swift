/// The field names a `Connection` value lists (RFC 9110 section 7.6.1), as lower-cased bytes, leaving out the
/// `keep-alive` and `close` options: those fields are hop-by-hop too. Empty, and allocation-free, for the usual value.
struct ConnectionNames {
    private var names: [[UInt8]] = []

    var isEmpty: Bool { names.isEmpty }

    mutating func add(listedIn value: UnsafeRawBufferPointer) {
        var element: [UInt8] = []
        func flush() {
            if !element.isEmpty && element != Array("keep-alive".utf8) && element != Array("close".utf8) {
                names.append(element)
            }
            element.removeAll()
        }
        // The common value is one option: check it without building anything.
        if Self.equalsLowercased(value, "keep-alive") || Self.equalsLowercased(value, "close") { return }
        for byte in value {
            if byte == UInt8(ascii: ",") {
                flush()
            } else if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") {
                element.append(byte >= 65 && byte <= 90 ? byte | 0x20 : byte)
            }
        }
        flush()
    }

    func contains(_ name: UnsafeRawBufferPointer) -> Bool {
        guard !names.isEmpty else { return false }
        return names.contains { listed in
            listed.count == name.count
                && zip(listed, name).allSatisfy { $0 == ($1 >= 65 && $1 <= 90 ? $1 | 0x20 : $1) }
        }
    }

    /// A comma-separated list value (RFC 9110 section 5.6.1) has `text` as one of its elements, ignoring ASCII case
    /// and the whitespace around elements; without building anything.
    static func listContains(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        var found = false
        forEachElement(of: bytes) { range in
            found = equalsLowercased(UnsafeRawBufferPointer(rebasing: bytes[range]), text)
            return !found
        }
        return found
    }

    /// Calls `body` with the range of each non-empty element of a comma-separated list value, the whitespace around
    /// it left out (RFC 9110 section 5.6.1: empty elements are ignored), until `body` returns false.
    static func forEachElement(of bytes: UnsafeRawBufferPointer, _ body: (Range<Int>) -> Bool) {
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: ",") { end += 1 }
            var first = start
            var last = end
            while first < last && (bytes[first] == UInt8(ascii: " ") || bytes[first] == UInt8(ascii: "\t")) {
                first += 1
            }
            while last > first && (bytes[last - 1] == UInt8(ascii: " ") || bytes[last - 1] == UInt8(ascii: "\t")) {
                last -= 1
            }
            if first < last && !body(first..<last) { return }
            start = end + 1
        }
    }

    /// `bytes` equal the lower-case ASCII `text`, ignoring ASCII case.
    static func equalsLowercased(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        for index in 0..<bytes.count {
            let byte = bytes[index]
            if (byte >= 65 && byte <= 90 ? byte | 0x20 : byte) != text.utf8Start[index] { return false }
        }
        return true
    }
}
