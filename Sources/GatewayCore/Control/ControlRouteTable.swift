import Foundation
import NIOHTTP1

/// The control plane's routes, matched by method and exact path. One table answers the three questions a request
/// asks: is the path ours (`contains`), which route takes it (`match`), and, when none takes its method, which
/// methods would (the 405's `Allow`). Pure: matching reads no clock and does no I/O.
struct ControlRouteTable<Context>: Sendable {
    /// What a request matched.
    enum Match {
        case route(ControlRoute<Context>)
        /// The path exists, not with this method: the methods that do, in table order (RFC 9110 section 15.5.6).
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    let routes: [ControlRoute<Context>]
    /// Each route's path as bytes, for `contains(utf8:)`, which runs for every proxied request.
    private let pathBytes: [[UInt8]]

    init(_ routes: [ControlRoute<Context>]) {
        self.routes = routes
        self.pathBytes = routes.map { Array($0.path.utf8) }
    }

    func match(_ method: HTTPMethod, _ path: Substring) -> Match {
        var allowed: [HTTPMethod] = []
        for route in routes where Self.equal(path, route.path) {
            if route.methods.contains(method) { return .route(route) }
            allowed += route.methods.filter { !allowed.contains($0) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// Whether some route has exactly this path.
    func contains(path: Substring) -> Bool {
        var path = path
        return path.withUTF8 { contains(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Whether some route has exactly the path whose UTF-8 is `path`: lengths first, then `memcmp`, with no generic
    /// `elementsEqual` over two UTF-8 views per route (it showed in the engine's profile).
    func contains(utf8 path: UnsafeRawBufferPointer) -> Bool {
        for routePath in pathBytes where routePath.count == path.count {
            let equal = routePath.withUnsafeBytes { route in
                route.isEmpty || memcmp(route.baseAddress!, path.baseAddress!, route.count) == 0
            }
            if equal { return true }
        }
        return false
    }

    /// By byte, as the proxy path's routes are matched: `Substring ==` compares Characters, on every request. The
    /// lengths first (a subtraction on native strings): `contains` runs for every proxied request, and a byte-wise
    /// comparison against each route showed in the engine's profile.
    private static func equal(_ path: Substring, _ routePath: String) -> Bool {
        guard path.utf8.count == routePath.utf8.count else { return false }
        // Over the contiguous bytes when both have them (native strings do): the generic UTF-8 views' iteration cost
        // more than the comparison itself.
        let contiguous = path.utf8.withContiguousStorageIfAvailable { pathBytes in
            routePath.utf8.withContiguousStorageIfAvailable { routeBytes in pathBytes.elementsEqual(routeBytes) }
        }
        return contiguous.flatMap { $0 } ?? path.utf8.elementsEqual(routePath.utf8)
    }
}
