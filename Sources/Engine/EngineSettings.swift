import GatewayCore

/// What a worker needs from one configuration snapshot (`EngineSettings+Runtime`); unit tests build smaller ones.
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
    /// `[websocket]`: tunnel limits, idle timeout and buffer budget (the snapshot's).
    var websocket = WebSocketConfig()
    /// An early answer's connection reads and drops the rest of the body for at most `lingering_time`, and at most
    /// `lingering_timeout` without a byte (nginx's names and lingering close).
    var lingeringTime = Duration.seconds(30)
    var lingeringTimeout = Duration.seconds(5)
    /// `[server] idle_timeout` and `client_timeout` (`EngineConnection+Timers`).
    var timeouts = EngineConnection.Timeouts(idle: 75_000_000_000, client: 30_000_000_000)
    /// nil when `[log] access_log = false`.
    var log: LineWriter?
    /// The service's access logger (its lines and the proxied-request metrics), used instead of `log`; nil in unit
    /// tests.
    var accessLogger: AccessLogger?
    /// The snapshot these settings come from (pools, CORS, tracing, control endpoints); nil in unit tests.
    var runtime: GatewayRuntime?
}
