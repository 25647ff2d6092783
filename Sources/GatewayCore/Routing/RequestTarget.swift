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
        // One pass over the bytes (`scan`): a native string's are contiguous.
        let scan =
            uri.utf8.withContiguousStorageIfAvailable(Self.scan) ?? Array(uri.utf8).withUnsafeBufferPointer(Self.scan)
        guard !scan.rejected else { return nil }
        let queryStart = uri.utf8.index(uri.utf8.startIndex, offsetBy: scan.queryStart)
        path = uri[..<queryStart]
        query = uri[queryStart...]
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
}
