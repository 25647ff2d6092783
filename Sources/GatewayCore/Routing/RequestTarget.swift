import Foundation

/// The request-target of an inbound request split into path and query, checked before routing.
///
/// Routing decides authentication, so a path that an upstream would resolve differently from us is
/// refused: `/public/../private` must not be matched against `/public/` and then normalised by the
/// upstream into `/private`. Dot segments, also percent-encoded (`%2e`), and anything that is not
/// origin-form (RFC 9112 section 3.2.1) are rejected, as is `%00` in the path; the rest is forwarded byte for byte.
public struct RequestTarget: Sendable, Equatable {
    public let path: Substring
    /// Including the leading `?`, or empty.
    public let query: Substring

    public init?(_ uri: String) {
        guard uri.utf8.first == UInt8(ascii: "/") else { return nil }
        // By byte: a Character search walks grapheme clusters, on every request.
        let queryStart = uri.utf8.firstIndex(of: UInt8(ascii: "?")) ?? uri.endIndex
        path = uri[..<queryStart]
        query = uri[queryStart...]
        guard !path.utf8.contains(UInt8(ascii: "#")), !Self.hasDotSegment(path), !Self.hasForbiddenByte(uri),
            !Self.hasEncodedNUL(path)
        else { return nil }
    }

    /// The path to forward after `strip_prefix` removed `prefix`; never empty.
    public func strippingPrefix(_ prefix: String) -> Substring {
        var trimmed = prefix
        if trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard path.hasPrefix(trimmed) else { return path }
        let rest = path.dropFirst(trimmed.count)
        if rest.isEmpty { return "/" }
        // A prefix without trailing slash also matches inside a segment (`/api` takes `/apix`): the
        // forwarded path must still be absolute, or the upstream URL would read `host:port` + `x`.
        return rest.utf8.first == UInt8(ascii: "/") ? rest : "/" + rest
    }

    private static func hasForbiddenByte(_ text: String) -> Bool {
        // Control characters, spaces and backslashes are never valid in a request-target, and some
        // servers treat a backslash as a slash.
        text.utf8.contains { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }
    }

    /// `%00` in the path: an upstream in C, or one that hands the decoded path to the file system, ends the path
    /// there (`/files/a.pdf%00.jpg`); nginx refuses it with 400 as well.
    private static func hasEncodedNUL(_ path: Substring) -> Bool {
        var utf8 = path.utf8[...]
        while let percent = utf8.firstIndex(of: UInt8(ascii: "%")) {
            utf8 = utf8[utf8.index(after: percent)...]
            if utf8.starts(with: "00".utf8) { return true }
        }
        return false
    }

    private static func hasDotSegment(_ path: Substring) -> Bool {
        // Byte checks first: Substring.contains(String) goes through Foundation, too slow for every request.
        guard path.utf8.contains(UInt8(ascii: ".")) || path.utf8.contains(UInt8(ascii: "%")) else { return false }
        // Upstreams that decode `%2F` before normalising see a separator there; Tomcat and Spring drop
        // `;` path parameters first, so `..;` is `..` to them.
        let decoded = path.replacingOccurrences(of: "%2e", with: ".", options: .caseInsensitive)
            .replacingOccurrences(of: "%2f", with: "/", options: .caseInsensitive)
        for segment in decoded.split(separator: "/", omittingEmptySubsequences: false) {
            let bare = segment.prefix(while: { $0 != ";" })
            if bare == "." || bare == ".." { return true }
        }
        return false
    }
}
