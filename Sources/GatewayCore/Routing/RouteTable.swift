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
        for route in routes where Self.prefix(route.prefix, matches: path) {
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
        if path.utf8.starts(with: prefix.utf8) { return true }
        return prefix.utf8.count > 1 && prefix.utf8.last == UInt8(ascii: "/")
            && path.utf8.elementsEqual(prefix.utf8.dropLast())
    }
}
