import SmallHTTP

/// The rules for the fields of a proxied request and of the upstream's answer (README.md, "What the upstream
/// receives"), decided by name on the engine's byte view of a head (`HeaderRewriter+ByteView.swift`):
/// `UpstreamRequestLines` writes the upstream's list by `requestFieldRule`, `ClientHeadWriter` the client's head by
/// `responseFieldRule`. Pure, and tested without sockets (`HeaderRewriterByteViewTests`, and in the engine's tests).
///
/// The identity headers are the whole point of the gateway, so they are dropped in every spelling an
/// upstream framework might fold together (any case, `_` for `-`), however many copies arrive, before the
/// gateway adds its own. The client's `Connection` header is dropped with the fields it names, so it
/// cannot be used to strip the injected headers on the way either.
public struct HeaderRewriter: Sendable {
    public let identity: IdentityConfig
    public let trustedProxies: [IPAddressRange]
    /// The identity headers' names folded by `HeaderName.canonical`, once each, as bytes: `isIdentityHeader(bytes:)`
    /// runs for every field of every request.
    let identityNames: [[UInt8]]
    /// One bit per length under 64 that an identity name has: most fields are told apart by their length alone.
    let identityNameLengths: UInt64

    public init(identity: IdentityConfig, trustedProxies: [IPAddressRange]) {
        self.identity = identity
        self.trustedProxies = trustedProxies
        let names = [identity.openidHeader, identity.unionidHeader, identity.appidHeader, identity.appKindHeader]
        self.identityNames = names.reduce(into: []) { folded, name in
            let canonical = Array(HeaderName.canonical(name).utf8)
            if !folded.contains(canonical) { folded.append(canonical) }
        }
        self.identityNameLengths = identityNames.reduce(0) { $1.count < 64 ? $0 | 1 << UInt64($1.count) : $0 }
    }

    /// How the rewriter treats a request header, decided by name without allocating (this runs for every
    /// header of every request).
    enum RequestHeaderKind {
        case hopByHop, authorization, forwardedFor, forwardedProto, forwardedHost, gatewayOwned, host, other
        /// `GatewayError.markField`: passed on in a request, never in an answer (only the gateway's own carry it).
        case gatewayMark
    }
}
