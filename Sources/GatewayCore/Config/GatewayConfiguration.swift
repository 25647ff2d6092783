/// A loaded, validated `gateway.conf`: an immutable snapshot with every default decided, so the rest of
/// the gateway never handles a missing value. A reload builds a new snapshot and swaps it in whole.
/// Its types mirror the file's sections one to one.
public struct GatewayConfiguration: Sendable, Equatable {
    public var server = ServerConfig()
    public var log = LogConfig()
    public var wechat = WeChatConfig()
    public var tokens = TokensConfig()
    public var store = StoreConfig()
    public var identity = IdentityConfig()
    public var rateLimit = RateLimitConfig()
    public var websocket = WebSocketConfig()
    public var tracing = TracingConfig()
    /// nil without a `[cors]` section: the gateway then does nothing about CORS.
    public var cors: CorsConfig?
    public var routes: [RouteConfig] = []

    public init() {}

    /// The top-level sections; anything else is an unknown key.
    static func decode(_ root: ConfigReader) -> GatewayConfiguration {
        var config = GatewayConfiguration()
        config.server = ServerConfig.decode(root.table("server"))
        config.log = LogConfig.decode(root.table("log"))
        config.wechat = WeChatConfig.decode(root.table("wechat"))
        if !root.has("tokens") {
            root.report("tokens", "the [tokens] section is required (secret for HS256, or algorithm and private_key)")
        }
        config.tokens = TokensConfig.decode(root.table("tokens"))
        config.store = StoreConfig.decode(root.table("store"))
        config.identity = IdentityConfig.decode(root.table("identity"))
        config.rateLimit = RateLimitConfig.decode(root.table("rate_limit"))
        let websocket = root.table("websocket")
        config.websocket = WebSocketConfig.decode(websocket)
        // Every tunnel holds a client connection: unless set, max_tunnels follows a smaller max_connections.
        if websocket?.has("max_tunnels") != true {
            config.websocket.maxTunnels = min(config.websocket.maxTunnels, config.server.maxConnections)
        }
        config.tracing = TracingConfig.decode(root.table("tracing"))
        config.cors = CorsConfig.decode(root.table("cors"))
        for (index, reader) in (root.tableArray("routes") ?? []).enumerated() {
            if let route = RouteConfig.decode(reader, index: index) {
                config.routes.append(route)
            }
        }
        root.rejectUnknownKeys()
        return config
    }

    /// Rules that span sections or entries. Pure: it looks at values only, never at files.
    func crossCheck() -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if wechat.apps.isEmpty {
            issues.append(
                ConfigIssue(
                    path: "wechat.apps", message: "at least one [[wechat.apps]] with appid and secret is required"))
        }
        if server.listen == server.adminListen {
            issues.append(
                ConfigIssue(
                    path: "server.admin_listen",
                    message: "must differ from server.listen (admin endpoints are never public)"))
        }
        if server.adminToken == nil, !ListenerExposure.isLoopback(host: server.adminListen.host) {
            issues.append(
                ConfigIssue(
                    path: "server.admin_token",
                    message: "is required when server.admin_listen (\(server.adminListen)) is not loopback: "
                        + "the admin listener can end any user's sessions"))
        }
        if websocket.maxTunnels > server.maxConnections {
            // Every tunnel holds a client connection: a larger max_tunnels could never be reached.
            issues.append(
                ConfigIssue(
                    path: "websocket.max_tunnels",
                    message: "\(websocket.maxTunnels) exceeds server.max_connections (\(server.maxConnections))"))
        }
        if !store.isPostgres, store.caFile != nil {
            issues.append(ConfigIssue(path: "store.ca_file", message: "only applies to a postgres:// store url"))
        }
        for route in routes {
            for reserved in ["/auth", "/.well-known"]
            where route.prefix == reserved || route.prefix.hasPrefix(reserved + "/") {
                issues.append(
                    ConfigIssue(
                        path: "routes[\(route.index)].prefix",
                        message: "\"\(route.prefix)\" is shadowed by the gateway's own \(reserved)/ endpoints"))
            }
            for other in routes
            where other.index < route.index && other.prefix == route.prefix && other.host == route.host {
                let overlap =
                    route.methods.isEmpty || other.methods.isEmpty
                    || !Set(route.methods).isDisjoint(with: other.methods)
                if overlap {
                    issues.append(
                        ConfigIssue(
                            path: "routes[\(route.index)].prefix",
                            message:
                                "\"\(route.prefix)\" duplicates routes[\(other.index)] (same prefix, host and methods)")
                    )
                }
            }
            for appid in route.apps ?? [] where !wechat.apps.contains(where: { $0.appid == appid }) {
                issues.append(
                    ConfigIssue(
                        path: "routes[\(route.index)].apps",
                        message: "\"\(appid)\" is not the appid of any [[wechat.apps]]"))
            }
            if route.insecureSkipVerify && route.upstreams.allSatisfy({ $0.scheme == .http }) {
                issues.append(
                    ConfigIssue(
                        path: "routes[\(route.index)].insecure_skip_verify",
                        message: "only applies to https:// upstreams"))
            }
        }
        return issues
    }
}
