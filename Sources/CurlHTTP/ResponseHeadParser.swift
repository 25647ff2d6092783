/// Collects the header lines libcurl hands to the header callback into a `CurlResponseHead`.
///
/// libcurl calls the header callback once per line: the status line, each field line, then a blank line, and the
/// same again for every interim 1xx response (RFC 9110 section 15.2) before the final one. The parser starts over on
/// every status line and reports a head only at the blank line after a final status.
struct ResponseHeadParser {
    /// What one line meant.
    enum LineResult: Equatable {
        /// The head is not complete yet (also after an interim 1xx block, which is dropped).
        case needMoreLines
        /// The blank line after a final status: the head is complete.
        case complete
        /// A line that cannot belong to an HTTP/1 head.
        case malformed
    }

    private(set) var status: Int?
    private(set) var version: String?
    private(set) var headers: [(name: String, value: String)] = []

    /// The head parsed so far; complete once `parse` returned `.complete`.
    var head: CurlResponseHead {
        CurlResponseHead(status: status ?? 0, headers: headers, version: version)
    }

    mutating func parse(line rawLine: UnsafeRawBufferPointer) -> LineResult {
        var line = rawLine[...]
        while let last = line.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") {
            line = line.dropLast()
        }
        if line.isEmpty {
            guard let status else { return .malformed }
            if (100..<200).contains(status) {
                self = ResponseHeadParser()
                return .needMoreLines
            }
            return .complete
        }
        if line.starts(with: Self.httpPrefix) {
            return parseStatusLine(line)
        }
        guard status != nil else { return .malformed }
        if let first = line.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            // Obsolete line folding (RFC 9112 section 5.2): the line continues the previous field's value.
            guard !headers.isEmpty else { return .malformed }
            let more = Self.trimmed(line)
            headers[headers.count - 1].value += headers[headers.count - 1].value.isEmpty ? more : " " + more
            return .needMoreLines
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != line.startIndex else { return .malformed }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: line[line.startIndex..<colon]), as: UTF8.self)
        let value = Self.trimmed(line[(colon + 1)...])
        headers.append((name: name, value: value))
        return .needMoreLines
    }

    private mutating func parseStatusLine(_ line: Slice<UnsafeRawBufferPointer>) -> LineResult {
        // "HTTP/1.1 200 OK", "HTTP/1.0 404", "HTTP/2 200": the version, spaces, three digits, then a space or the end.
        let space = UInt8(ascii: " ")
        let afterPrefix = line.dropFirst(Self.httpPrefix.count)
        guard let versionEnd = afterPrefix.firstIndex(of: space), versionEnd > afterPrefix.startIndex else {
            return .malformed
        }
        var codeStart = versionEnd
        while codeStart < afterPrefix.endIndex, afterPrefix[codeStart] == space { codeStart += 1 }
        var codeEnd = codeStart
        var code = 0
        while codeEnd < afterPrefix.endIndex, afterPrefix[codeEnd] != space {
            let digit = afterPrefix[codeEnd] &- UInt8(ascii: "0")
            guard digit < 10 else { return .malformed }
            code = code * 10 + Int(digit)
            codeEnd += 1
        }
        guard codeEnd - codeStart == 3 else { return .malformed }
        self = ResponseHeadParser()
        // One allocation for a typical head instead of one per doubling.
        headers.reserveCapacity(16)
        status = code
        version = String(decoding: UnsafeRawBufferPointer(rebasing: afterPrefix[..<versionEnd]), as: UTF8.self)
        return .needMoreLines
    }

    private static let httpPrefix: [UInt8] = Array("HTTP/".utf8)

    private static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
        var bytes = bytes
        while let first = bytes.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            bytes = bytes.dropFirst()
        }
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            bytes = bytes.dropLast()
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes), as: UTF8.self)
    }
}
