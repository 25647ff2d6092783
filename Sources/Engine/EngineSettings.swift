import GatewayCore

/// What a worker needs from one loaded configuration (issue 23's slice: no reload, no admin listener, no TLS).
struct EngineSettings {
    var listen: ListenAddress
    var planner: EngineRequestPlanner
    var identity: IdentityConfig
    /// The realm in `WWW-Authenticate` challenges (`[tokens] issuer`, as `GatewayRuntime.realm`).
    var realm: String
    /// The read buffer of a connection: a head that does not fit is answered 431.
    var maxHeaderBytes: Int
    /// Bytes waiting for a slow client before its upstream transfer is paused.
    var outputLimit = 256 * 1024
    /// `[server] max_body_bytes`: 413 for a longer Content-Length at once, and for a chunked body growing past it.
    var maxBodyBytes = Int.max
    /// An early answer's connection reads and drops the rest of the body for at most `lingering_time`, and at most
    /// `lingering_timeout` without a byte (nginx's names, `ProxyHandler.linger`).
    var lingeringTime = Duration.seconds(30)
    var lingeringTimeout = Duration.seconds(5)
    /// nil when `[log] access_log = false`.
    var log: LineWriter?
}
