import CurlHTTP
import NIOCore

/// One WebSocket upgrade, from the authenticated request to the tunnel's end: the libcurl delegate, and the route by
/// which its events reach whoever owns the connection on the event loop — `ProxyHandler` until the upstream answers,
/// `TunnelRelay` once it switched protocols.
final class TunnelSession: CurlTunnelDelegate, @unchecked Sendable {
    let plan: TunnelPlan
    let services: TunnelServices
    private let inbox: TunnelEventInbox
    // Loop-only from here.
    var record: RequestRecord
    var tunnel: CurlTunnel?
    var proxy: ProxyHandler?
    var relay: TunnelRelay?

    init(
        plan: TunnelPlan, services: TunnelServices, inbox: TunnelEventInbox, record: RequestRecord, proxy: ProxyHandler
    ) {
        self.plan = plan
        self.services = services
        self.inbox = inbox
        self.record = record
        self.proxy = proxy
    }

    /// Curl thread: hands the event to the loop.
    func tunnel(_ tunnel: CurlTunnel, didReport event: CurlTunnelEvent) {
        inbox.post(self, event)
    }

    /// Loop: performs one event; returns whether the connection was written to and needs a flush after the batch.
    func deliver(_ event: CurlTunnelEvent) -> Bool {
        switch event {
        case .refused, .closed:
            // Final: the tunnel's place is free again, whoever handles the answer.
            if let tunnel { services.registry.remove(tunnel) }
        case .switched, .data, .canSendMore:
            break
        }
        if let relay { return relay.receive(event) }
        if let proxy { return proxy.receive(tunnelEvent: event, for: self) }
        return false
    }

    func flush() {
        relay?.flushIfNeeded()
        proxy?.flushIfNeeded()
    }
}
