import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin listener on `[server] admin_listen` (DESIGN.md section 6): `/healthz`, `/readyz` and
/// `/metrics`, plain HTTP/1.1 on its own socket so that none of it is ever reachable through the public
/// listener. Shares the gateway's event loops; its traffic is a few probes and scrapes a minute.
public final class AdminServer: Sendable {
    /// What the endpoints read; closures so the server knows nothing of the runtime or the store.
    public struct Probes: Sendable {
        public var metrics: GatewayMetrics
        public var readiness: @Sendable () async -> Readiness
        /// Refreshes the gauges sampled at scrape time (open connections, transfers in flight).
        public var beforeScrape: @Sendable () -> Void

        public init(
            metrics: GatewayMetrics, readiness: @escaping @Sendable () async -> Readiness,
            beforeScrape: @escaping @Sendable () -> Void = {}
        ) {
            self.metrics = metrics
            self.readiness = readiness
            self.beforeScrape = beforeScrape
        }
    }

    private let group: any EventLoopGroup
    private let probes: Probes

    public init(group: any EventLoopGroup, probes: Probes) {
        self.group = group
        self.probes = probes
    }

    /// Binds the admin listener and returns its channel.
    public func bind(host: String, port: Int) async throws -> any Channel {
        let probes = self.probes
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try sync.addHandler(AdminRequestHandler(probes: probes))
                }
            }
            .bind(host: host, port: port).get()
    }
}
