import CurlHTTP
import NIOCore

/// What a connection needs to open WebSocket tunnels: the libcurl tunnel client, the registry (limits and
/// revocation), per-loop inboxes for the tunnels' events, and where a tunnel's end is recorded.
struct TunnelServices: Sendable {
    let client: CurlTunnelClient
    let registry: TunnelRegistry
    let accessLogger: AccessLogger
    let metrics: GatewayMetrics?
    private let inboxes: [ObjectIdentifier: TunnelEventInbox]

    init(
        client: CurlTunnelClient, registry: TunnelRegistry, accessLogger: AccessLogger, metrics: GatewayMetrics?,
        group: any EventLoopGroup
    ) {
        self.client = client
        self.registry = registry
        self.accessLogger = accessLogger
        self.metrics = metrics
        var inboxes: [ObjectIdentifier: TunnelEventInbox] = [:]
        for (index, loop) in group.makeIterator().enumerated() {
            inboxes[ObjectIdentifier(loop)] = TunnelEventInbox(eventLoop: loop, index: index, client: client)
        }
        self.inboxes = inboxes
    }

    func inbox(for loop: any EventLoop) -> TunnelEventInbox? {
        inboxes[ObjectIdentifier(loop)]
    }
}
