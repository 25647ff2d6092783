import CCurl

/// A request's header fields as the `curl_slist` given to CURLOPT_HTTPHEADER, in memory an easy handle owns and
/// reuses from one transfer to the next.
///
/// libcurl only reads the list, until the transfer ends, so the list need not come from `curl_slist_append`, which
/// costs two `malloc`s and a copy per line on every request. Here the lines are written into one buffer and the
/// nodes into another, both kept for the next transfer (and given back when they grew past `retainedBytes`).
struct HeaderLines {
    private var bytes: UnsafeMutablePointer<CChar>?
    private var byteCapacity = 0
    private var nodes: UnsafeMutablePointer<curl_slist>?
    private var nodeCapacity = 0
    /// Storage kept between transfers; a request with larger headers gets its own for that transfer only.
    static let retainedBytes = 8 * 1024

    /// Writes `headers` as lines (`Name: value`, or `Name;` for an empty value, libcurl's spelling of an empty
    /// field) plus `Expect:` and `Accept:` (which stop libcurl adding its own) unless the request has them, and
    /// returns the list. It stays valid until the next `build`, `release` or `deallocate`.
    mutating func build(_ headers: [(name: String, value: String)]) -> UnsafeMutablePointer<curl_slist> {
        var hasExpect = false
        var hasAccept = false
        var byteCount = 0
        for (name, value) in headers {
            byteCount += name.utf8.count + (value.isEmpty ? 1 : 2 + value.utf8.count) + 1
            if name.utf8.count == 6 {
                if Self.equalsIgnoringCase(name, "expect") { hasExpect = true }
                if Self.equalsIgnoringCase(name, "accept") { hasAccept = true }
            }
        }
        let expect: StaticString = "Expect:"
        let accept: StaticString = "Accept:"
        if !hasExpect { byteCount += expect.utf8CodeUnitCount + 1 }
        if !hasAccept { byteCount += accept.utf8CodeUnitCount + 1 }
        let nodeCount = headers.count + (hasExpect ? 0 : 1) + (hasAccept ? 0 : 1)
        reserve(bytes: byteCount, nodes: nodeCount)
        let bytes = self.bytes!
        let nodes = self.nodes!

        var offset = 0
        var node = 0
        func appendLine(_ write: (inout Int) -> Void) {
            let start = offset
            write(&offset)
            bytes[offset] = 0
            offset += 1
            nodes[node] = curl_slist(data: bytes + start, next: nil)
            if node > 0 { nodes[node - 1].next = nodes + node }
            node += 1
        }
        func copy(_ text: String, to offset: inout Int) {
            var text = text
            text.withUTF8 { utf8 in
                UnsafeMutableRawPointer(bytes + offset).copyMemory(from: utf8.baseAddress!, byteCount: utf8.count)
                offset += utf8.count
            }
        }
        for (name, value) in headers {
            appendLine { offset in
                copy(name, to: &offset)
                if value.isEmpty {
                    bytes[offset] = CChar(bitPattern: UInt8(ascii: ";"))
                    offset += 1
                } else {
                    bytes[offset] = CChar(bitPattern: UInt8(ascii: ":"))
                    bytes[offset + 1] = CChar(bitPattern: UInt8(ascii: " "))
                    offset += 2
                    copy(value, to: &offset)
                }
            }
        }
        func appendLine(_ line: StaticString) {
            appendLine { offset in
                UnsafeMutableRawPointer(bytes + offset).copyMemory(
                    from: line.utf8Start, byteCount: line.utf8CodeUnitCount)
                offset += line.utf8CodeUnitCount
            }
        }
        if !hasExpect { appendLine(expect) }
        if !hasAccept { appendLine(accept) }
        return nodes
    }

    /// The transfer that used the list has ended: storage grown past `retainedBytes` is given back.
    mutating func release() {
        if byteCapacity > Self.retainedBytes || nodeCapacity * MemoryLayout<curl_slist>.stride > Self.retainedBytes {
            deallocate()
        }
    }

    mutating func deallocate() {
        bytes?.deallocate()
        nodes?.deallocate()
        bytes = nil
        nodes = nil
        byteCapacity = 0
        nodeCapacity = 0
    }

    private mutating func reserve(bytes byteCount: Int, nodes nodeCount: Int) {
        if byteCount > byteCapacity || self.bytes == nil {
            self.bytes?.deallocate()
            byteCapacity = max(byteCount, 1024)
            self.bytes = .allocate(capacity: byteCapacity)
        }
        if nodeCount > nodeCapacity || self.nodes == nil {
            self.nodes?.deallocate()
            nodeCapacity = max(nodeCount, 32)
            self.nodes = .allocate(capacity: nodeCapacity)
        }
    }

    /// `name` equals the lower-case ASCII `lowercased`, ignoring ASCII case, without a lower-cased copy.
    private static func equalsIgnoringCase(_ name: String, _ lowercased: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: lowercased.utf8Start, count: lowercased.utf8CodeUnitCount)
        guard name.utf8.count == expected.count else { return false }
        return zip(name.utf8, expected).allSatisfy { byte, lower in
            (byte >= 65 && byte <= 90 ? byte | 0x20 : byte) == lower
        }
    }
}
