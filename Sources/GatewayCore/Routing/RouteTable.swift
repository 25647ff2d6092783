import Foundation

/// Chooses the route for a request (docs/configuration.md, "Matching"): the longest matching
/// `prefix` wins; among equal prefixes a route narrowed by `host` or `methods` is tried before a
/// general one. Built once per config snapshot; matching allocates nothing.
public struct RouteTable: Sendable {
    /// Routes in the order they are tried.
    public let routes: [RouteConfig]
    /// Whether any route is narrowed by host, so the Host header is only parsed when it matters.
    public let matchesHosts: Bool

    public init(_ routes: [RouteConfig]) {
        self.matchesHosts = routes.contains { $0.host != nil }
        self.routes = routes.sorted { a, b in
            if a.prefix.utf8.count != b.prefix.utf8.count { return a.prefix.utf8.count > b.prefix.utf8.count }
            if (a.host != nil) != (b.host != nil) { return a.host != nil }
            if a.methods.isEmpty != b.methods.isEmpty { return !a.methods.isEmpty }
            return a.index < b.index
        }
    }

    /// - Parameters:
    ///   - path: the request path without its query.
    ///   - host: the request's Host, lower-cased, without port; nil when absent.
    public func match(method: String, path: Substring, host: Substring?) -> RouteConfig? {
        // By index: `for route in routes` copied every route tried (a retain per reference field); only the one
        // returned is copied now.
        for index in routes.indices where Self.prefix(routes[index].prefix, matches: path) {
            let route = routes[index]
            if let wanted = route.host, host.map({ $0 == wanted }) != true { continue }
            // HEAD is GET without a body (RFC 9110 section 9.3.2): a GET route takes it too, as nginx does.
            if !route.methods.isEmpty, !route.methods.contains(method),
                !(method == "HEAD" && route.methods.contains("GET"))
            {
                continue
            }
            return route
        }
        return nil
    }

    /// A prefix ending in `/` also matches the path without that slash (`/api/` takes `/api`).
    static func prefix(_ prefix: String, matches path: Substring) -> Bool {
        // On the contiguous bytes (native strings have them): the generic `starts(with:)` and `elementsEqual` over
        // the UTF-8 views showed in the engine's profile, for every route tried on every request.
        let contiguous = prefix.utf8.withContiguousStorageIfAvailable { prefixBytes in
            path.utf8.withContiguousStorageIfAvailable { pathBytes in
                Self.prefix(UnsafeRawBufferPointer(prefixBytes), matches: UnsafeRawBufferPointer(pathBytes))
            }
        }
        if let contiguous, let matches = contiguous { return matches }
        if path.utf8.starts(with: prefix.utf8) { return true }
        return prefix.utf8.count > 1 && prefix.utf8.last == UInt8(ascii: "/")
            && path.utf8.elementsEqual(prefix.utf8.dropLast())
    }

    /// `prefix(_:matches:)` on the UTF-8 of both.
    static func prefix(_ prefix: UnsafeRawBufferPointer, matches path: UnsafeRawBufferPointer) -> Bool {
        if path.count >= prefix.count && Self.equal(prefix.baseAddress, path.baseAddress, count: prefix.count) {
            return true
        }
        return prefix.count > 1 && prefix[prefix.count - 1] == UInt8(ascii: "/") && path.count == prefix.count - 1
            && Self.equal(prefix.baseAddress, path.baseAddress, count: path.count)
    }

    private static func equal(_ left: UnsafeRawPointer?, _ right: UnsafeRawPointer?, count: Int) -> Bool {
        // A buffer of one or more bytes has an address.
        count == 0 || memcmp(left!, right!, count) == 0
    }
}
