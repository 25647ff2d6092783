import GatewayCore
import Tokens

/// What the planner decided for a request that goes upstream: the route, the caller, the request id, and what the
/// header rewrite needs from the head (issue 23's slice of `RequestPlanner`'s `ForwardPlan`).
struct ForwardPlan {
    var route: RouteConfig
    var upstream: UpstreamURL
    var target: RequestTarget
    var claims: VerifiedClaims?
    var requestID: String
    /// The client's Host value, for `X-Forwarded-Host`.
    var host: ByteSpan?
}
