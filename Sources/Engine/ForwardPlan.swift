import GatewayCore
import Tokens

/// What the planner decided for a request that goes upstream: the route, the caller, the request id, and what the
/// header rewrite needs from the head.
struct ForwardPlan {
    /// The route's prefix (the access log's `route`, and what `strip_prefix` removes).
    var routePrefix: String
    var stripPrefix: Bool
    var forwardAuthorization: Bool
    var connectTimeout: Duration
    var timeout: Duration
    var upstream: UpstreamURL
    var target: RequestTarget
    var claims: VerifiedClaims?
    var requestID: String
    /// The client's Host value, for `X-Forwarded-Host`.
    var host: ByteSpan?
    /// The route's upstreams and the index of `upstream` among them; nil without a pool (unit tests).
    var pool: UpstreamPool?
    var upstreamIndex = 0
    /// The route's `ca_file` and `insecure_skip_verify`, for an HTTPS upstream (`EngineTransfer+UpstreamTLS`).
    var caFile: String?
    var insecureSkipVerify = false
}
