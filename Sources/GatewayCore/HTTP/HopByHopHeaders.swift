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
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
