/// `[websocket]`: limits for the tunnels of routes with `websocket = true`.
public struct WebSocketConfig: Sendable, Equatable {
    /// A tunnel with no byte either way for this long is closed (nginx's `proxy_read_timeout` default).
    public var idleTimeout = Duration.seconds(60)
    /// Open tunnels over all routes; an upgrade over it is answered 503 before any upstream connection.
    public var maxTunnels = 10_000
    /// Open tunnels of one openid; an upgrade over it is answered 429, so one user cannot take every place.
    public var maxTunnelsPerUser = 16
    /// Per direction, the bytes the gateway holds between the two sides (read from one, not yet written to the
    /// other). At the limit it stops reading the faster side, so a slow reader costs at most this much memory.
    public var buffer = ByteSize(bytes: 1 << 20)
    /// The bytes held by all tunnels together, both directions: at it the gateway stops reading the side that would
    /// add more, so a thousand slow readers cost at most this much, not a thousand `buffer`s.
    public var maxBuffered = ByteSize(bytes: 256 << 20)

    public init() {}

    static func decode(_ reader: ConfigReader?) -> WebSocketConfig {
        var config = WebSocketConfig()
        guard let reader else { return config }
        if let duration = reader.duration("idle_timeout") {
            if duration > .zero {
                config.idleTimeout = duration
            } else {
                reader.report("idle_timeout", "must be greater than zero")
            }
        }
        if let count = reader.integer("max_tunnels") {
            if (1...1_000_000).contains(count) {
                config.maxTunnels = count
            } else {
                reader.report("max_tunnels", "must be between 1 and 1000000")
            }
        }
        if let count = reader.integer("max_tunnels_per_user") {
            if (1...1_000_000).contains(count) {
                config.maxTunnelsPerUser = count
            } else {
                reader.report("max_tunnels_per_user", "must be between 1 and 1000000")
            }
        }
        if let size = reader.size("max_buffered") {
            if ((64 << 10)...(64 << 30)).contains(size.bytes) {
                config.maxBuffered = size
            } else {
                reader.report("max_buffered", "must be between 64KiB and 64GiB")
            }
        }
        if let size = reader.size("buffer") {
            if (4096...(1 << 30)).contains(size.bytes) {
                config.buffer = size
            } else {
                reader.report("buffer", "must be between 4KiB and 1GiB")
            }
        }
        // The tunnel threads are gone (issue 23): each tunnel is relayed by the engine worker of its client.
        if reader.has("threads") {
            reader.report(
                "threads", "no longer exists: each engine worker relays its own clients' tunnels; use [server] workers")
        }
        reader.rejectUnknownKeys()
        return config
    }
}
