import CurlHTTP
import Dispatch
import Foundation
import Logging
import Metrics
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
    /// Called once the listeners are bound and the engine's workers listen (`demo` starts its walk-through then).
    private let onReady: (@Sendable (SocketAddress) -> Void)?
    /// `serve --allow-dev-secrets`: a reload with a development secret on an exposed listener is applied (with a
    /// warning) instead of refused, as the start was.
    private let allowsDevelopmentSecrets: Bool
    /// The public listener: the engine's epoll workers (issue 23), handed in by the command line because the
    /// engine's module depends on this one.
    private let engine: any PublicEngine

    public init(
        config: GatewayConfiguration, configPath: String, logger: Logger, allowsDevelopmentSecrets: Bool = false,
        engine: any PublicEngine, onReady: (@Sendable (SocketAddress) -> Void)? = nil
    ) {
        self.engine = engine
        self.initial = config
        self.configPath = configPath
        self.logger = logger
        self.allowsDevelopmentSecrets = allowsDevelopmentSecrets
        self.onReady = onReady
    }

    /// What every snapshot shares: they outlive reloads.
    struct Shared {
        let revocations: RevocationList
        let store: any SessionStore
        let wechatCurl: CurlClient
        let rateLimiter: RateLimiter
        let phoneRateLimiter: RateLimiter
        let metrics: GatewayMetrics
        let logger: Logger
        /// `[tracing]`: built once at start, so a reload keeps it (a change needs a restart).
        var tracer = RequestTracer.off
    }

    /// Builds what a configuration snapshot needs that can fail (keys), then the runtime with its
    /// control endpoints, which see the same keys and verifier as the proxy path.
    static func makeRuntime(_ config: GatewayConfiguration, shared: Shared) -> Result<GatewayRuntime, ConfigError> {
        config.tokens.makeKeyRing().map { ring in
            let verifier = GatewayRuntime.makeVerifier(
                config: config.tokens, keyRing: ring, revocations: shared.revocations)
            let metrics = shared.metrics
            let wechat = WeChatClient(
                apiBase: config.wechat.apiBase, timeout: config.wechat.timeout, curl: shared.wechatCurl,
                onCall: { api, errcode, seconds in
                    metrics.recordWeChatCall(api: api, errcode: errcode, seconds: seconds)
                    // A child span of the /auth/* request that made the call, when one is being recorded.
                    TraceScope.record(
                        "wechat \(api)", seconds: seconds,
                        attributes: ["wechat.api": .string(api), "wechat.errcode": .int64(Int64(errcode))],
                        failed: errcode != 0)
                })
            // With export on, each store operation of an /auth/* request is a child span of it.
            let store: any SessionStore =
                shared.tracer.tracer == nil ? shared.store : TracingSessionStore(base: shared.store)
            let endpoints = AuthEndpoints(
                config: config, wechat: wechat, store: store, keyRing: ring, verifier: verifier,
                revocations: shared.revocations, rateLimiter: shared.rateLimiter,
                phoneRateLimiter: shared.phoneRateLimiter, logger: shared.logger)
            // Only the proxy path's verifier is counted: `/auth/revoke` verifies whatever it is given (refresh
            // tokens too), and those are not failed authentications.
            let counted = CountingTokenVerifier(wrapping: verifier, metrics: shared.metrics)
            return GatewayRuntime(config: config, verifier: counted, control: endpoints, tracer: shared.tracer)
        }
    }

    public func run() async throws {
        let config = initial
        let store: any SessionStore
        do {
            store = try await makeSessionStore(
                url: config.store.url, options: config.store.options, logger: logger)
        } catch {
            throw GatewayStartupError("store.url \(config.store): \(error)")
        }
        // Logged-out access tokens stay refused across a restart until they would have expired anyway.
        let revocations = RevocationList()
        do {
            for revoked in try await store.revokedAccessTokens(now: Date()) {
                revocations.revoke(jti: revoked.jti, until: revoked.expiresAt)
            }
        } catch {
            await store.close()
            throw GatewayStartupError("store.url \(config.store): \(error)")
        }
        // Revocations made by any instance sharing the store (logout, revoke, refresh-token reuse) reach this
        // one's list within about a second; the store says how (NOTIFY, or a poll of the feed).
        let follower = Task {
            await store.followRevocations { batch in
                let now = Date()
                for revoked in batch { revocations.revoke(jti: revoked.jti, until: revoked.expiresAt, now: now) }
            }
        }
        // WeChat calls (the control plane) get a libcurl thread of their own; proxied traffic is the engine's.
        let wechatCurl = try CurlClient(configuration: CurlClientConfiguration())
        let metrics = GatewayMetrics()
        Self.bootstrapMetricsSystem(metrics)
        let tracing: TracingExport?
        do {
            tracing = try TracingExport(config.tracing, logger: logger)
        } catch {
            throw GatewayStartupError("tracing.endpoint: cannot export spans: \(error)")
        }
        tracing?.start()
        var shared = Shared(
            revocations: revocations, store: store, wechatCurl: wechatCurl,
            rateLimiter: RateLimiter(
                requestsPerMinute: config.rateLimit.authPerMinute, burst: config.rateLimit.authBurst),
            phoneRateLimiter: RateLimiter(
                requestsPerMinute: config.rateLimit.phonePerMinute, burst: config.rateLimit.phoneBurst),
            metrics: metrics, logger: logger)
        if let tracing { shared.tracer = tracing.tracer }
        let runtime: GatewayRuntime
        switch Self.makeRuntime(config, shared: shared) {
        case .success(let built): runtime = built
        case .failure(let error): throw error
        }
        Self.warnAboutUnverifiedUpstreams(config, logger: logger)
        let holder = RuntimeHolder(runtime)
        let tls: TLSContextBox?
        do {
            tls = try config.server.tls.map { TLSContextBox(try TLSContextBox.makeContext($0)) }
        } catch {
            throw GatewayStartupError("server.tls_certificate: cannot serve TLS: \(error)")
        }
        // The admin listener's event loop: the public listener is the engine's.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let writer = config.log.accessLog ? LineWriter(fd: 1) : nil
        let accessLogger = AccessLogger(writer: writer, metrics: metrics)
        // WebSocket tunnels close when their token or session is revoked, here or on another instance (the
        // revocation list hears both).
        let tunnelRegistry = TunnelRegistry()
        tunnelRegistry.follow(revocations)
        let draining = NIOLockedValueBox(false)
        let engine = self.engine
        var probes = AdminServer.Probes(
            metrics: metrics,
            readiness: {
                if draining.withLockedValue({ $0 }) { return .notReady(reason: "shutting down") }
                do {
                    try await store.ping()
                    return .ready
                } catch {
                    return .notReady(reason: "store: \(error)")
                }
            },
            beforeScrape: {
                metrics.sample(
                    openConnections: engine.openConnections,
                    upstreamTransfersInFlight: engine.upstreamTransfersInFlight,
                    accessLogDroppedLines: writer?.droppedLines, openTunnels: tunnelRegistry.count)
                let feed = store.revocationFeedStatistics
                metrics.sampleRevocationFeed(reads: feed.reads, rows: feed.rowsRead)
            })
        probes.credential = AdminCredential(token: config.server.adminToken)
        probes.sessions = AdminSessions(
            store: store, revocations: revocations, tokens: { holder.current.config.tokens }, logger: logger)
        let admin = AdminServer(group: group, probes: probes)

        let adminListener: any Channel
        let listen: ListenAddress
        do {
            listen = try engine.start(
                PublicEngineContext(
                    holder: holder, accessLogger: accessLogger, metrics: metrics, logger: logger,
                    tunnelRegistry: tunnelRegistry))
        } catch {
            wechatCurl.shutdown()
            try? await group.shutdownGracefully()
            follower.cancel()
            await store.close()
            throw GatewayStartupError("cannot listen on \(config.server.listen): \(error)")
        }
        do {
            adminListener = try await admin.bind(
                host: config.server.adminListen.host, port: config.server.adminListen.port)
        } catch {
            engine.closeAll()
            wechatCurl.shutdown()
            try? await group.shutdownGracefully()
            follower.cancel()
            await store.close()
            throw GatewayStartupError("cannot listen on server.admin_listen \(config.server.adminListen): \(error)")
        }
        logger.info(
            "gateway listening",
            metadata: [
                "listen": "\(listen)",
                "admin_listen": "\(adminListener.localAddress.map { "\($0)" } ?? "\(config.server.adminListen)")",
                "routes": "\(config.routes.count)", "tls": "\(tls != nil)", "workers": "\(config.server.workers)",
            ])
        // Every worker listens once `start` returns (each binds its socket before any thread runs).
        if let onReady,
            let address = try? SocketAddress(
                ipAddress: listen.host == "localhost" ? "127.0.0.1" : listen.host, port: listen.port)
        {
            onReady(address)
        }

        let reloads = installReloadHandler(holder: holder, shared: shared, tls: tls)
        let purge = Task {
            // Expired sessions, tokens and revocations are deleted in the background; with a shared store
            // one instance at a time does it (the store decides), the others find nothing to do.
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(600))
                let removed = (try? await store.purgeExpired(now: Date())) ?? 0
                revocations.purge(now: Date())
                if removed > 0 { logger.debug("purged expired sessions", metadata: ["rows": "\(removed)"]) }
            }
        }

        // Wait for SIGTERM/SIGINT (the service group turns them into a graceful shutdown).
        try? await gracefulShutdown()
        logger.info(
            "shutting down: no longer accepting, draining in-flight requests",
            metadata: ["drain_timeout": "\(holder.current.config.server.drainTimeout)"])
        // /readyz answers 503 from now on, so a load balancer stops sending while connections drain.
        draining.withLockedValue { $0 = true }
        reloads.cancel()
        purge.cancel()
        follower.cancel()
        engine.drain()
        let open = { engine.openConnections }
        let deadline = ContinuousClock.now + holder.current.config.server.drainTimeout
        while open() > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if tunnelRegistry.count > 0 {
            // Tunnels stay open through the drain; at its end each is closed and logged as "shutdown", and its client
            // connection closes with it.
            logger.info(
                "drain timeout reached; closing WebSocket tunnels", metadata: ["tunnels": "\(tunnelRegistry.count)"])
            tunnelRegistry.closeAll(reason: "shutdown")
            let closing = ContinuousClock.now + .seconds(2)
            while tunnelRegistry.count > 0 && ContinuousClock.now < closing {
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        if open() > 0 {
            logger.warning(
                "drain timeout reached; closing remaining connections", metadata: ["connections": "\(open())"])
            // Each worker closes its own connections (through its mailbox) and logs them before the log stops.
            engine.closeAll()
            let closing = ContinuousClock.now + .seconds(2)
            while engine.openConnections > 0 && ContinuousClock.now < closing {
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        try? await adminListener.close()
        wechatCurl.shutdown()
        await follower.value
        // Spans of the drained requests go out before the process ends (bounded: a dead collector costs them).
        await tracing?.stop()
        await store.close()
        try? await group.shutdownGracefully()
        writer?.stop()
        logger.info("stopped")
    }

    /// SIGHUP: re-read the file; a valid config replaces the snapshot atomically, a bad one is logged
    /// with every error and the running one stays. Listener addresses are bound once and need a restart.
    private func installReloadHandler(
        holder: RuntimeHolder, shared: Shared, tls: TLSContextBox?
    ) -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "gateway.reload"))
        let path = configPath
        let allowsDevelopmentSecrets = self.allowsDevelopmentSecrets
        source.setEventHandler {
            let applied = Self.reload(
                path: path, holder: holder, shared: shared, tls: tls, allowsDevelopmentSecrets: allowsDevelopmentSecrets
            )
            shared.metrics.recordReload(applied: applied)
        }
        source.resume()
        return source
    }

    /// One reload: everything that can fail (the file, keys, certificates) is built before anything is
    /// swapped, so a rejected reload changes nothing. Returns whether the new configuration was applied.
    static func reload(
        path: String, holder: RuntimeHolder, shared: Shared, tls: TLSContextBox?, allowsDevelopmentSecrets: Bool = false
    ) -> Bool {
        let logger = shared.logger
        let old = holder.current
        let loaded = ConfigLoader().load(file: path)
        guard case .success(let config) = loaded else {
            if case .failure(let error) = loaded { logRejectedReload(error, logger: logger) }
            return false
        }
        // The rule `serve` applies at start holds for every later configuration: a renamed environment variable
        // that falls back to the shipped secret must not hand token signing to anyone who read the repository.
        let exposed = DevelopmentSecrets.problems(in: config)
        if !exposed.isEmpty {
            if !allowsDevelopmentSecrets {
                logRejectedReload(
                    ConfigError(file: path, issues: exposed.map { ConfigIssue(path: "", message: $0) }), logger: logger)
                return false
            }
            for problem in exposed { logger.warning("reload: \(path): warning: \(problem) (--allow-dev-secrets)") }
        }
        // A renewed certificate is read now; switching TLS on or off needs a new listener (a restart).
        var newContext: NIOSSLContext?
        if let files = config.server.tls, tls != nil {
            do {
                newContext = try TLSContextBox.makeContext(files)
            } catch {
                logRejectedReload(ConfigError(file: path, issues: TLSContextBox.issues(for: files)), logger: logger)
                return false
            }
        }
        let runtime: GatewayRuntime
        switch makeRuntime(config, shared: shared) {
        case .success(let built): runtime = built
        case .failure(let error):
            logRejectedReload(error, logger: logger)
            return false
        }
        for change in RestartRequiredChanges(old: old.config, new: config).descriptions {
            logger.warning("reload: \(change) takes effect only after a restart")
        }
        warnAboutUnverifiedUpstreams(config, logger: logger)
        if let newContext { tls?.replace(with: newContext) }
        holder.replace(with: runtime)
        logger.info(
            "reload: configuration applied",
            metadata: [
                "routes": "\(config.routes.count)", "tls_renewed": "\(newContext != nil)",
            ])
        return true
    }

    private static func logRejectedReload(_ error: ConfigError, logger: Logger) {
        logger.error(
            "reload: configuration rejected, keeping the running one",
            metadata: [
                "errors": "\(error.issues.count)"
            ])
        for issue in error.issues {
            logger.error("reload: \(error.file): \(issue)")
        }
    }

    /// `insecure_skip_verify` turns off what makes `https://` worth having; it must never be on silently. Nor may
    /// the other valid but dangerous settings `gateway check` warns about (`ConfigWarnings`).
    static func warnAboutUnverifiedUpstreams(_ config: GatewayConfiguration, logger: Logger) {
        for warning in ConfigWarnings.of(config) { logger.warning("\(warning)") }
        for route in config.routes where route.insecureSkipVerify {
            let message =
                "routes[\(route.index)].insecure_skip_verify = true: upstream TLS certificates for prefix "
                + "\(route.prefix) are NOT verified; anyone on the path can impersonate the upstream and read "
                + "identities"
            logger.warning("\(message)", metadata: ["route": "\(route.prefix)"])
        }
    }

    /// Routes swift-metrics users (libraries) into the gateway's registry. `MetricsSystem` can be bootstrapped
    /// once per process; a second service in the same process (tests) keeps the first registry.
    private static let metricsBootstrapped = NIOLockedValueBox(false)

    static func bootstrapMetricsSystem(_ metrics: GatewayMetrics) {
        let first = metricsBootstrapped.withLockedValue { done in
            defer { done = true }
            return !done
        }
        if first { MetricsSystem.bootstrap(metrics.factory) }
    }
}

/// The gateway could not start (a port in use, an unreadable certificate...).
public struct GatewayStartupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
