extension Substring {
    /// Without leading and trailing spaces and tabs (RFC 9110 section 5.6.3, OWS), without copying the bytes.
    func trimmingOptionalWhitespace() -> Substring {
        let bytes = utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") {
            start = bytes.index(after: start)
        }
        while start < end {
            let last = bytes.index(before: end)
            guard bytes[last] == UInt8(ascii: " ") || bytes[last] == UInt8(ascii: "\t") else { break }
            end = last
        }
        return Substring(bytes[start..<end])
    }
}
