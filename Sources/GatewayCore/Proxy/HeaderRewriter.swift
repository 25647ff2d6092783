import NIOHTTP1

/// Builds the header list sent upstream from the client's headers (DESIGN.md section 5, "Proxied
/// requests"). Pure: given the same input it returns the same list, and it is tested without sockets.
///
/// The identity headers are the whole point of the gateway, so they are removed in every spelling an
/// upstream framework might fold together (any case, `_` for `-`), however many copies arrive, before the
/// gateway adds its own. The client's `Connection` header is dropped with the fields it names, so it
/// cannot be used to strip the injected headers on the way either.
public struct HeaderRewriter: Sendable {
    public let identity: IdentityConfig
    public let trustedProxies: [IPAddressRange]
    private let identityNames: Set<String>

    public init(identity: IdentityConfig, trustedProxies: [IPAddressRange]) {
        self.identity = identity
        self.trustedProxies = trustedProxies
        self.identityNames = [identity.openidHeader, identity.unionidHeader, identity.appidHeader]
            .reduce(into: []) { $0.insert(HeaderName.canonical($1)) }
    }

    /// Headers the gateway sets itself; client copies are replaced, not forwarded.
    static let gatewayOwned: Set<String> = [
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id", "forwarded",
        // Framing is decided by libcurl from the body we stream; Expect is answered by the gateway.
        "content-length", "expect",
    ]

    /// The upstream request's headers, in the client's order, then the gateway's own.
    public func upstreamHeaders(
        for request: HTTPHeaders, identity caller: Identity?, forwardAuthorization: Bool, context: ForwardingContext
    ) -> [(name: String, value: String)] {
        let hopByHop = HopByHopHeaders(request)
        let peerIsTrusted = context.peerAddress.map { address in trustedProxies.contains { $0.contains(address) } }
            ?? false
        var result: [(name: String, value: String)] = []
        result.reserveCapacity(request.count + 6)
        var forwardedFor: [String] = []
        var forwardedProto: String?
        var forwardedHost: String?
        var host: String?
        for (name, value) in request {
            let lower = name.lowercased()
            if hopByHop.contains(lower) { continue }
            if identityNames.contains(HeaderName.canonical(name)) { continue }
            if lower == "authorization" && !forwardAuthorization { continue }
            if Self.gatewayOwned.contains(lower) {
                if peerIsTrusted {
                    switch lower {
                    case "x-forwarded-for": forwardedFor.append(value)
                    case "x-forwarded-proto": forwardedProto = forwardedProto ?? value
                    case "x-forwarded-host": forwardedHost = forwardedHost ?? value
                    default: break
                    }
                }
                continue
            }
            if lower == "host" {
                host = host ?? value
            }
            result.append((name, value))
        }
        if let peer = context.peerAddress { forwardedFor.append(peer) }
        if !forwardedFor.isEmpty {
            result.append(("X-Forwarded-For", forwardedFor.joined(separator: ", ")))
        }
        result.append(("X-Forwarded-Proto", forwardedProto ?? context.scheme))
        if let forwardedHost = forwardedHost ?? host {
            result.append(("X-Forwarded-Host", forwardedHost))
        }
        result.append(("X-Request-Id", context.requestID))
        if let caller {
            result.append((identity.openidHeader, caller.openid))
            if let unionid = caller.unionid { result.append((identity.unionidHeader, unionid)) }
            if let appid = caller.appid { result.append((identity.appidHeader, appid)) }
        }
        return result
    }

    /// The upstream response's headers as sent to the client: hop-by-hop fields removed (libcurl has
    /// already de-chunked the body, so `Transfer-Encoding` goes too), repeated fields such as
    /// `Set-Cookie` kept apart, and the request id added.
    public static func clientHeaders(
        from upstream: [(name: String, value: String)], requestID: String
    ) -> HTTPHeaders {
        var connectionNamed: Set<String> = []
        for (name, value) in upstream where name.lowercased() == "connection" {
            for token in value.split(separator: ",") { connectionNamed.insert(token.lowercased().trimmingSpaces()) }
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(upstream.count + 1)
        var sawRequestID = false
        for (name, value) in upstream {
            let lower = name.lowercased()
            if HopByHopHeaders.fixed.contains(lower) || connectionNamed.contains(lower) { continue }
            if lower == "x-request-id" { sawRequestID = true }
            headers.add(name: name, value: value)
        }
        if !sawRequestID { headers.add(name: "X-Request-Id", value: requestID) }
        return headers
    }
}
