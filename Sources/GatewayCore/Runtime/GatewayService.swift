import CurlHTTP
import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import SessionStore
import Tokens
import WeChat

/// `gateway serve` as a swift-service-lifecycle service: it builds the runtime from a loaded
/// configuration, binds the listeners, reloads on SIGHUP, and on SIGTERM/SIGINT stops accepting,
/// lets in-flight requests finish (bounded by `drain_timeout`) and shuts down cleanly.
public final class GatewayService: Service, Sendable {
    public let configPath: String
    private let initial: GatewayConfiguration
    private let logger: Logger
    /// Called once the listeners are bound (tests and `demo` use it to learn the ports).
    private let onReady: (@Sendable (SocketAddress) -> Void)?

    public init(
        config: GatewayConfiguration, configPath: String, logger: Logger,
        onReady: (@Sendable (SocketAddress) -> Void)? = nil
    ) {
        self.initial = config
        self.configPath = configPath
        self.logger = logger
        self.onReady = onReady
    }

    /// What every snapshot shares: they outlive reloads.
    struct Shared {
        let revocations: RevocationList
        let store: any SessionStore
        let wechatCurl: CurlClient
        let rateLimiter: RateLimiter
        let logger: Logger
    }

    /// Builds what a configuration snapshot needs that can fail (keys), then the runtime with its
    /// control endpoints, which see the same keys and verifier as the proxy path.
    static func makeRuntime(_ config: GatewayConfiguration, shared: Shared) -> Result<GatewayRuntime, ConfigError> {
        config.tokens.makeKeyRing().map { ring in
            let verifier = GatewayRuntime.makeVerifier(config: config.tokens, keyRing: ring, revocations: shared.revocations)
            let wechat = WeChatClient(apiBase: config.wechat.apiBase, timeout: config.wechat.timeout, curl: shared.wechatCurl)
            let endpoints = AuthEndpoints(
                config: config, wechat: wechat, store: shared.store, keyRing: ring, verifier: verifier,
                revocations: shared.revocations, rateLimiter: shared.rateLimiter, logger: shared.logger)
            return GatewayRuntime(config: config, verifier: verifier, control: endpoints)
        }
    }

    public func run() async throws {
        let config = initial
        let store: any SessionStore
        do {
            store = try makeSessionStore(url: config.store.url)
        } catch {
            throw GatewayStartupError("store.url \(config.store): \(error)")
        }
        // Logged-out access tokens stay refused across a restart until they would have expired anyway.
        let revocations = RevocationList()
        for revoked in try await store.revokedAccessTokens(now: Date()) {
            revocations.revoke(jti: revoked.jti, until: revoked.expiresAt)
        }
        var curlConfiguration = CurlClientConfiguration()
        curlConfiguration.threads = config.server.curlThreads
        let curl = try CurlClient(configuration: curlConfiguration)
        // WeChat calls get their own engine thread, so a slow WeChat never queues behind proxy traffic.
        let wechatCurl = try CurlClient(configuration: CurlClientConfiguration())
        let shared = Shared(
            revocations: revocations, store: store, wechatCurl: wechatCurl,
            rateLimiter: RateLimiter(requestsPerMinute: config.rateLimit.authPerMinute, burst: config.rateLimit.authBurst),
            logger: logger)
        let runtime: GatewayRuntime
        switch Self.makeRuntime(config, shared: shared) {
        case .success(let built): runtime = built
        case .failure(let error): throw error
        }
        let holder = RuntimeHolder(runtime)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: config.server.eventLoops)
        let writer = config.log.accessLog ? LineWriter(fd: 1) : nil
        let accessLogger = AccessLogger(writer: writer, metrics: GatewayMetrics())
        let tls = try config.server.tls.map { try Self.makeTLSContext($0) }
        let server = GatewayServer(group: group, holder: holder, curl: curl, accessLogger: accessLogger, tls: tls)

        let listener: any Channel
        do {
            listener = try await server.bind(host: config.server.listen.host, port: config.server.listen.port)
        } catch {
            curl.shutdown()
            try? await group.shutdownGracefully()
            throw GatewayStartupError("cannot listen on \(config.server.listen): \(error)")
        }
        let address = listener.localAddress
        logger.info("gateway listening", metadata: [
            "listen": "\(address.map { "\($0)" } ?? "\(config.server.listen)")",
            "routes": "\(config.routes.count)", "tls": "\(tls != nil)",
        ])
        if let address { onReady?(address) }

        let reloads = installReloadHandler(holder: holder, shared: shared)
        let purge = Task {
            // Expired sessions, tokens and revocations are deleted in the background.
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(600))
                let removed = (try? await store.purgeExpired(now: Date())) ?? 0
                revocations.purge(now: Date())
                if removed > 0 { logger.debug("purged expired sessions", metadata: ["rows": "\(removed)"]) }
            }
        }

        // Wait for SIGTERM/SIGINT (the service group turns them into a graceful shutdown).
        try? await gracefulShutdown()
        logger.info("shutting down: no longer accepting, draining in-flight requests",
            metadata: ["drain_timeout": "\(holder.current.config.server.drainTimeout)"])
        reloads.cancel()
        purge.cancel()
        try? await listener.close()
        server.connections.drainAll()
        let deadline = ContinuousClock.now + holder.current.config.server.drainTimeout
        while server.connections.count > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if server.connections.count > 0 {
            logger.warning("drain timeout reached; closing remaining connections",
                metadata: ["connections": "\(server.connections.count)"])
            server.connections.closeAll()
        }
        curl.shutdown()
        wechatCurl.shutdown()
        await store.close()
        try? await group.shutdownGracefully()
        writer?.stop()
        logger.info("stopped")
    }

    /// SIGHUP: re-read the file; a valid config replaces the snapshot atomically, a bad one is logged
    /// with every error and the running one stays. Listener addresses are bound once and need a restart.
    private func installReloadHandler(holder: RuntimeHolder, shared: Shared) -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "gateway.reload"))
        let logger = self.logger
        let path = configPath
        source.setEventHandler {
            let old = holder.current
            switch ConfigLoader().load(file: path).flatMap({ Self.makeRuntime($0, shared: shared) }) {
            case .success(let runtime):
                if runtime.config.server.listen != old.config.server.listen
                    || runtime.config.server.adminListen != old.config.server.adminListen
                {
                    logger.warning("reload: listen addresses changed; they take effect after a restart")
                }
                holder.replace(with: runtime)
                logger.info("reload: configuration applied", metadata: ["routes": "\(runtime.config.routes.count)"])
            case .failure(let error):
                logger.error("reload: configuration rejected, keeping the running one",
                    metadata: ["errors": "\(error.description)"])
            }
        }
        source.resume()
        return source
    }

    static func makeTLSContext(_ files: ServerConfig.TLSFiles) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificate).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        tls.applicationProtocols = ["http/1.1"]
        return try NIOSSLContext(configuration: tls)
    }
}

/// The gateway could not start (a port in use, an unreadable certificate...).
public struct GatewayStartupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
