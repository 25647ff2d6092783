import NIOHTTP1

/// Connection-specific header fields (RFC 9110 section 7.6.1): they describe one hop and are never
/// forwarded, in either direction. Fields that `Connection` names are hop-by-hop too.
public struct HopByHopHeaders: Sendable {
    /// Lower-case names that are always hop-by-hop, plus framing headers the forwarder sets itself
    /// (libcurl frames the upstream request; NIO frames the client response).
    static let fixed: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authorization", "proxy-authenticate",
    ]

    /// The lower-case names to drop for this message.
    public let names: Set<String>

    public init(_ headers: HTTPHeaders) {
        var names = Self.fixed
        for value in headers[canonicalForm: "connection"] {
            let name = value.lowercased().trimmingSpaces()
            if !name.isEmpty { names.insert(name) }
        }
        self.names = names
    }

    public func contains(_ lowercasedName: String) -> Bool {
        names.contains(lowercasedName)
    }

    /// Appends the field names a `Connection` value lists, lower-cased, leaving out `keep-alive` and `close`
    /// (connection options, not fields). Allocates nothing for a value that lists only those, by far the most
    /// common: this runs for every request and every response that carries the header.
    static func appendNames(listedIn connectionValue: String, to names: inout [String]) {
        let utf8 = connectionValue.utf8
        var start = utf8.startIndex
        while true {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: ",")) ?? utf8.endIndex
            var tokenStart = start
            var tokenEnd = end
            while tokenStart < tokenEnd, utf8[tokenStart] == UInt8(ascii: " ") || utf8[tokenStart] == UInt8(ascii: "\t") {
                tokenStart = utf8.index(after: tokenStart)
            }
            while tokenStart < tokenEnd {
                let last = utf8.index(before: tokenEnd)
                guard utf8[last] == UInt8(ascii: " ") || utf8[last] == UInt8(ascii: "\t") else { break }
                tokenEnd = last
            }
            if tokenStart < tokenEnd {
                let token = Substring(utf8[tokenStart..<tokenEnd])
                if !ASCIICase.equals(token, "keep-alive") && !ASCIICase.equals(token, "close") {
                    names.append(token.lowercased())
                }
            }
            guard end < utf8.endIndex else { return }
            start = utf8.index(after: end)
        }
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
