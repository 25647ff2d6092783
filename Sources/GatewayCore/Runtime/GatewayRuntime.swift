import CurlHTTP
import Foundation
import Tokens

/// Everything a request needs, derived once from one configuration snapshot: the route table, the
/// upstream pools, the authenticator and the header rewriter. Immutable; a reload builds a new one and
/// swaps it in, so an in-flight request finishes on the snapshot it started with.
public final class GatewayRuntime: Sendable {
    public let config: GatewayConfiguration
    public let routes: RouteTable
    /// Indexed by `RouteConfig.index`.
    public let pools: [UpstreamPool]
    public let authenticator: Authenticator
    public let rewriter: HeaderRewriter
    public let control: (any ControlEndpoints)?
    /// The realm in `WWW-Authenticate` challenges.
    public let realm: String
    /// `[cors]` as decisions; nil without the section (CORS off).
    public let cors: CorsPolicy?

    /// Starts each request's span; built once at start (`TracingExport`) and shared by every snapshot.
    public let tracer: RequestTracer

    public init(
        config: GatewayConfiguration, verifier: any TokenVerifier, control: (any ControlEndpoints)?,
        tracer: RequestTracer = .off
    ) {
        self.tracer = tracer
        self.config = config
        self.routes = RouteTable(config.routes)
        var pools: [UpstreamPool] = []
        for route in config.routes.sorted(by: { $0.index < $1.index }) {
            pools.append(UpstreamPool(upstreams: route.upstreams))
        }
        self.pools = pools
        self.authenticator = Authenticator(verifier: verifier)
        self.rewriter = HeaderRewriter(identity: config.identity, trustedProxies: config.server.trustedProxies)
        self.control = control
        self.realm = config.tokens.issuer
        self.cors = config.cors.map(CorsPolicy.init)
    }

    /// The verifier used on the hot path: signature and claims checks against the ring, the revocation
    /// list consulted on every use, results cached per token.
    public static func makeVerifier(
        config: TokensConfig, keyRing: KeyRing, revocations: RevocationList
    ) -> CachingTokenVerifier {
        let verifier = AccessTokenVerifier(
            keyRing: keyRing, issuer: config.issuer, audience: config.audience, leeway: config.leeway.seconds,
            revocations: revocations)
        return CachingTokenVerifier(wrapping: verifier)
    }
}
