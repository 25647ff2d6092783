import NIOCore

/// `[server]`: the public and admin listeners, client-side limits and the engine's worker count.
public struct ServerConfig: Sendable, Equatable {
    public var listen = ListenAddress(host: "127.0.0.1", port: 8080)
    public var adminListen = ListenAddress(host: "127.0.0.1", port: 9901)
    /// Bearer credential for `/metrics` and `/sessions*` on the admin listener; required when that is not loopback.
    public var adminToken: String?
    /// Both files or neither: the gateway terminates TLS itself when set.
    public var tls: TLSFiles?
    public var maxHeaderBytes = 16_384
    public var maxBodyBytes = ByteSize(bytes: 10 << 20)
    public var clientTimeout = Duration.seconds(30)
    public var idleTimeout = Duration.seconds(75)
    public var drainTimeout = Duration.seconds(15)
    /// After an early answer (413, 401, 400...) to a request whose body is still arriving, the rest is read and
    /// dropped for at most this long (nginx's `lingering_time`), so the client reads the answer instead of a reset.
    public var lingeringTime = Duration.seconds(30)
    /// ...and for at most this long without a byte from the client (nginx's `lingering_timeout`).
    public var lingeringTimeout = Duration.seconds(5)
    /// Client connections open at once on the public listener; one more is accepted and closed at once. Each
    /// proxied connection holds two descriptors and some memory, so a flood of idle or trickling connections
    /// must hit a wall the operator chose rather than the open-file limit.
    public var maxConnections = 10_000
    public var trustedProxies: [IPAddressRange] = []
    /// Engine workers serving the public listener (issue 23), each a thread with its own `SO_REUSEPORT` listener,
    /// `epoll` set and libcurl multi handle, owning its client and upstream sockets; defaults to one per core.
    public var workers = System.coreCount

    /// The thread counts of the two-thread design (NIO event loops handing transfers to curl threads) that `workers`
    /// replaced: a file that still sets one is refused, rather than run with a layout it no longer describes.
    static let removedThreadKeys = ["event_loops", "curl_threads"]
    static let useWorkers =
        "no longer exists: one engine worker per core serves clients and their libcurl transfers; use [server] workers"

    public init() {}

    /// Certificate chain and private key, PEM files.
    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String
        public var privateKey: String
    }

    static func decode(_ reader: ConfigReader?) -> ServerConfig {
        var config = ServerConfig()
        guard let reader else { return config }
        for (key, keyPath) in [("listen", \ServerConfig.listen), ("admin_listen", \ServerConfig.adminListen)] {
            if let text = reader.string(key) {
                if let address = ListenAddress(configText: text) {
                    config[keyPath: keyPath] = address
                } else {
                    reader.report(key, "\"\(text)\" is not a listen address (host:port, [v6]:port)")
                }
            }
        }
        if let token = reader.string("admin_token") {
            // An empty value (an unset `${GATEWAY_ADMIN_TOKEN}`) would be a credential anyone can present.
            if token.utf8.count >= 16 {
                config.adminToken = token
            } else {
                reader.report("admin_token", "must be at least 16 characters (it is a password)")
            }
        }
        let certificate = reader.string("tls_certificate")
        let privateKey = reader.string("tls_private_key")
        switch (certificate, privateKey) {
        case (let certificate?, let privateKey?):
            config.tls = TLSFiles(certificate: certificate, privateKey: privateKey)
        case (.some, nil):
            reader.report("tls_private_key", "is required when tls_certificate is set")
        case (nil, .some):
            reader.report("tls_certificate", "is required when tls_private_key is set")
        case (nil, nil):
            break
        }
        if let bytes = reader.integer("max_header_bytes") {
            if (1024...1 << 20).contains(bytes) {
                config.maxHeaderBytes = bytes
            } else {
                reader.report("max_header_bytes", "must be between 1024 and 1048576")
            }
        }
        if let size = reader.size("max_body_bytes") { config.maxBodyBytes = size }
        for (key, keyPath) in [
            ("client_timeout", \ServerConfig.clientTimeout), ("idle_timeout", \ServerConfig.idleTimeout),
            ("drain_timeout", \ServerConfig.drainTimeout), ("lingering_time", \ServerConfig.lingeringTime),
            ("lingering_timeout", \ServerConfig.lingeringTimeout),
        ] {
            if let duration = reader.duration(key) {
                if duration > .zero {
                    config[keyPath: keyPath] = duration
                } else {
                    reader.report(key, "must be greater than zero")
                }
            }
        }
        if let count = reader.integer("max_connections") {
            if (1...1_000_000).contains(count) {
                config.maxConnections = count
            } else {
                reader.report("max_connections", "must be between 1 and 1000000")
            }
        }
        if let ranges = reader.stringArray("trusted_proxies") {
            for (path, text) in ranges {
                if let range = IPAddressRange(configText: text) {
                    config.trustedProxies.append(range)
                } else {
                    reader.reportAt(path, "\"\(text)\" is not an IP address or CIDR block")
                }
            }
        }
        if let count = reader.integer("workers") {
            if (1...64).contains(count) {
                config.workers = count
            } else {
                reader.report("workers", "must be between 1 and 64")
            }
        }
        for key in removedThreadKeys where reader.has(key) { reader.report(key, useWorkers) }
        reader.rejectUnknownKeys()
        return config
    }
}
