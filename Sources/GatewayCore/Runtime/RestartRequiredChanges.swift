/// The settings a reload cannot apply because they were used once at start (bound sockets, thread
/// counts, the store connection, shared state): a pure comparison, so reload can warn about each one
/// instead of pretending it took effect.
public struct RestartRequiredChanges: Sendable, Equatable {
    /// Key paths as written in gateway.conf, e.g. `server.listen`.
    public var keys: [String]

    public init(old: GatewayConfiguration, new: GatewayConfiguration) {
        var keys: [String] = []
        if old.server.listen != new.server.listen { keys.append("server.listen") }
        if old.server.adminListen != new.server.adminListen { keys.append("server.admin_listen") }
        if old.server.adminToken != new.server.adminToken { keys.append("server.admin_token") }
        if (old.server.tls == nil) != (new.server.tls == nil) { keys.append("server.tls_certificate (TLS on/off)") }
        if old.server.workers != new.server.workers { keys.append("server.workers") }
        if old.store.url != new.store.url { keys.append("store.url") }
        if old.store.poolSize != new.store.poolSize { keys.append("store.pool_size") }
        if old.store.timeout != new.store.timeout { keys.append("store.timeout") }
        if old.store.caFile != new.store.caFile { keys.append("store.ca_file") }
        if old.rateLimit != new.rateLimit { keys.append("rate_limit") }
        if old.log != new.log { keys.append("log") }
        // The exporter, its batch processor and the sampler are built once at start (Observability/Tracing).
        if old.tracing != new.tracing { keys.append("tracing") }
        self.keys = keys
    }

    public var descriptions: [String] { keys.map { "a change of \($0)" } }
}
