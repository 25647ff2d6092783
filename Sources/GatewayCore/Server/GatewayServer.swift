import CurlHTTP
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The public listener: accepts connections and builds each one's pipeline
/// (TLS when configured → `RequestStartDetector` → NIO's HTTP/1.1 request decoder with the header limits →
/// `ProxyHandler`). There is no response encoder and no protocol-error handler: `ProxyHandler` writes response
/// bytes itself and answers the decoder's parse errors (`errorCaught`). A connection over `max_connections` gets
/// only `OverLimitConnectionCloser`. The TLS context is read from its box per connection, so a reload can renew
/// the certificate.
public final class GatewayServer: Sendable {
    public let group: MultiThreadedEventLoopGroup
    private let holder: RuntimeHolder
    private let curl: CurlClient
    private let accessLogger: AccessLogger
    private let tls: TLSContextBox?
    private let metrics: GatewayMetrics?
    public let connections = ConnectionTracker()
    /// One per event loop, so upstream events reach each loop in batches.
    private let inboxes: [ObjectIdentifier: UpstreamEventInbox]
    /// One per event loop: the client-side timeouts of its connections.
    private let deadlines: [ObjectIdentifier: ConnectionDeadlines]
    private let tunnels: TunnelServices?

    public init(
        group: MultiThreadedEventLoopGroup, holder: RuntimeHolder, curl: CurlClient, accessLogger: AccessLogger,
        tls: TLSContextBox?, metrics: GatewayMetrics? = nil, tunnelClient: CurlTunnelClient? = nil,
        tunnelRegistry: TunnelRegistry = TunnelRegistry()
    ) {
        self.tunnels = tunnelClient.map {
            TunnelServices(
                client: $0, registry: tunnelRegistry, accessLogger: accessLogger, metrics: metrics, group: group)
        }
        self.metrics = metrics
        self.group = group
        self.holder = holder
        self.curl = curl
        self.accessLogger = accessLogger
        self.tls = tls
        var inboxes: [ObjectIdentifier: UpstreamEventInbox] = [:]
        var deadlines: [ObjectIdentifier: ConnectionDeadlines] = [:]
        for (index, loop) in group.makeIterator().enumerated() {
            inboxes[ObjectIdentifier(loop)] = UpstreamEventInbox(eventLoop: loop, index: index, client: curl)
            deadlines[ObjectIdentifier(loop)] = ConnectionDeadlines(eventLoop: loop)
        }
        self.inboxes = inboxes
        self.deadlines = deadlines
    }

    /// Binds the listener and returns its channel (whose `localAddress` tells the port when 0 was asked).
    public func bind(host: String, port: Int) async throws -> any Channel {
        let holder = self.holder
        let curl = self.curl
        let accessLogger = self.accessLogger
        let tls = self.tls
        let connections = self.connections
        let inboxes = self.inboxes
        let deadlines = self.deadlines
        let metrics = self.metrics
        let tunnels = self.tunnels
        let scheme = tls == nil ? "http" : "https"
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                // Over [server] max_connections: accepted (so the kernel's backlog does not fill with them) and
                // closed before a byte is read, like HAProxy's maxconn with a full queue. Read per connection, so a
                // reload applies to the next one.
                guard connections.track(channel, limit: holder.current.config.server.maxConnections) else {
                    metrics?.recordRejectedConnection()
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(OverLimitConnectionCloser())
                    }
                }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        try sync.addHandler(NIOSSLServerHandler(context: tls.current))
                    }
                    // Child channels run on the group's loops, each of which has its inbox and deadlines.
                    guard let inbox = inboxes[ObjectIdentifier(channel.eventLoop)],
                        let loopDeadlines = deadlines[ObjectIdentifier(channel.eventLoop)]
                    else { throw ChannelError.operationUnsupported }
                    let proxy = ProxyHandler(
                        holder: holder, upstreams: curl, scheme: scheme, accessLogger: accessLogger, inbox: inbox,
                        deadlines: loopDeadlines, tunnels: tunnels)
                    try sync.addHandler(RequestStartDetector(proxy: proxy))
                    var limits = NIOHTTPDecoderLimitConfiguration()
                    let maxHeaderBytes = holder.current.config.server.maxHeaderBytes
                    limits.maxHeaderListSize = maxHeaderBytes
                    limits.maxHeaderFieldSize = maxHeaderBytes
                    // A request decoder and no response encoder: the proxy writes response bytes itself
                    // (ResponseHeadWriter), after checking the upstream's fields once, where a bad one can still
                    // become a 502 (HeaderRewriter.writeClientHead).
                    try sync.addHandler(
                        ByteToMessageHandler(
                            HTTPRequestDecoder(
                                // After a WebSocket upgrade, bytes the client sent behind its request head go to
                                // the tunnel when the parser leaves the pipeline.
                                leftOverBytesStrategy: .forwardBytes, informationalResponseStrategy: .drop,
                                limitConfiguration: limits)))
                    try sync.addHandler(proxy)
                }
            }
        return try await bootstrap.bind(host: host, port: port).get()
    }
}
