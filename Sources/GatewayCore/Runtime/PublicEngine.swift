import Logging

/// The engine (issue 23) serving the public listener: one epoll worker per core owning its client and libcurl
/// sockets. Declared here because GatewayService runs it but the engine's module depends on this one; the command
/// line hands the implementation in.
public protocol PublicEngine: AnyObject, Sendable {
    /// Binds every worker's listener (a listener that cannot bind throws before any worker starts) and starts them.
    /// Returns the address they listen on: `server.listen` with the port the system chose when it asked for port 0
    /// (every worker shares that one port, as with a fixed one).
    func start(_ context: PublicEngineContext) throws -> ListenAddress
    /// SIGTERM: stop accepting, close idle connections, `Connection: close` on answers in flight.
    func drain()
    /// Client connections open on every worker.
    var openConnections: Int { get }
    /// Upstream transfers running on every worker (`gateway_upstream_transfers_in_flight`).
    var upstreamTransfersInFlight: Int { get }
    /// The drain deadline passed: close every connection still open.
    func closeAll()
}

/// What the service shares with the engine's workers: the snapshot they read per request, and the service's sinks.
public struct PublicEngineContext: Sendable {
    public let holder: RuntimeHolder
    public let accessLogger: AccessLogger
    public let metrics: GatewayMetrics
    public let logger: Logger
    /// The service's WebSocket tunnels: admission under `[websocket]` limits across workers, and revocations.
    public let tunnelRegistry: TunnelRegistry

    public init(
        holder: RuntimeHolder, accessLogger: AccessLogger, metrics: GatewayMetrics, logger: Logger,
        tunnelRegistry: TunnelRegistry = TunnelRegistry()
    ) {
        self.holder = holder
        self.accessLogger = accessLogger
        self.metrics = metrics
        self.logger = logger
        self.tunnelRegistry = tunnelRegistry
    }
}
