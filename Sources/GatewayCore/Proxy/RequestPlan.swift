import CurlHTTP
import NIOHTTP1

/// What `RequestPlanner` decided for one request head, with what the access log needs to know of the
/// decision whichever way it went.
struct RequestPlan {
    enum Decision {
        /// Answer locally with this error (and its `WWW-Authenticate` realm, for a 401).
        case answer(GatewayError, realm: String)
        /// A control-plane request (`/auth/*`, the JWKS): collect its body, then ask these endpoints.
        case control(any ControlEndpoints)
        /// Proxy it.
        case forward(ForwardPlan)
        /// Open a WebSocket tunnel for it.
        case tunnel(TunnelPlan)
        /// A CORS preflight from an allowed origin: answer 204 with these fields (`CorsPolicy`), never forward it.
        case preflight([CorsPolicy.Field])
    }

    var decision: Decision
    /// The matched route's prefix (`"control"` for the control plane), when one matched.
    var route: String?
    /// The caller's openid, when a token was verified.
    var openid: String?
    /// What CORS adds to the answer, whichever way the decision went (`CorsPolicy`).
    var cors = CorsPolicy.AnswerFields.none
}

/// Everything needed to send a request upstream, and to send it again elsewhere (`RequestPlanner.retry`).
struct ForwardPlan {
    var route: RouteConfig
    var pool: UpstreamPool
    var upstreamIndex: Int
    var request: CurlRequest
    /// Path (after `strip_prefix`) and query exactly as received.
    var forwardedPath: Substring
    var forwardedQuery: Substring
    /// Whether the client's body follows the head (it is streamed upstream as it arrives).
    var hasBody: Bool
    /// Whether to answer `100 Continue` before the body: the client asked and can read an interim answer.
    var sendsContinue: Bool
}

/// Everything needed to open a tunnel for an authenticated `Upgrade: websocket` request.
struct TunnelPlan {
    var route: RouteConfig
    var pool: UpstreamPool
    var upstreamIndex: Int
    /// The connection and the rewritten upgrade request to write on it.
    var request: CurlTunnelRequest
    /// Who opened it: a revocation of its token or session closes it.
    var identity: Identity?
}
