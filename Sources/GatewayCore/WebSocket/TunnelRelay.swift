import CurlHTTP
import NIOCore

/// The client side of an open tunnel: replaces the HTTP handlers once the upstream has switched protocols and relays
/// raw bytes to and from the tunnel, with back-pressure both ways, until either side ends it. Writes the tunnel's one
/// access-log line at its end.
///
/// Client → upstream: reads are held while the tunnel's queue is at `[websocket] buffer` (`send` returned false)
/// and resume on `.canSendMore`. Upstream → client: bytes are acknowledged (`delivered`) as soon as the channel takes
/// them while writable; when it is not, acknowledgements wait for writability, so the tunnel stops reading the
/// upstream once `buffer` bytes are pending towards a slow client.
final class TunnelRelay: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let session: TunnelSession
    private let tunnel: CurlTunnel
    private var context: ChannelHandlerContext?
    private var readsHeld = false
    private var readPending = false
    /// Bytes written while the channel was not writable, acknowledged when it is again.
    private var unacknowledged = 0
    private var bytesToUpstream = 0
    private var bytesToClient = 0
    private var needsFlush = false
    private var ended = false

    init(session: TunnelSession, tunnel: CurlTunnel) {
        self.session = session
        self.tunnel = tunnel
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Reads were held while the upgrade was answered.
        context.read()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard !ended else { return }
        bytesToUpstream += buffer.readableBytes
        if !tunnel.send(buffer) { readsHeld = true }
    }

    func read(context: ChannelHandlerContext) {
        if readsHeld {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, unacknowledged > 0 {
            tunnel.delivered(unacknowledged)
            unacknowledged = 0
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // What the client sent before closing still goes up; then the upstream connection closes.
        tunnel.finishSending()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A shutdown's drain leaves tunnels open; they are closed when `drain_timeout` runs out.
        if event is DrainEvent { return }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: Tunnel events (on the loop, from the inbox)

    func receive(_ event: CurlTunnelEvent) -> Bool {
        guard !ended else { return false }
        if case .closed(let end) = event {
            // Logged even when the client has gone already (its close is what ended the tunnel).
            ended = true
            finish(end)
            // The session and this handler hold each other until here.
            session.relay = nil
            guard let context else { return false }
            // Closed once everything written before has gone out.
            let channel = context.channel
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer())), promise: written)
            needsFlush = false
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            return false
        }
        guard let context else { return false }
        switch event {
        case .data(let buffer):
            bytesToClient += buffer.readableBytes
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
            needsFlush = true
            if context.channel.isWritable {
                tunnel.delivered(buffer.readableBytes)
            } else {
                unacknowledged += buffer.readableBytes
            }
            return true
        case .canSendMore:
            readsHeld = false
            if readPending {
                readPending = false
                context.read()
            }
            return false
        case .switched, .refused, .closed:
            return false
        }
    }

    func flushIfNeeded() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    /// The tunnel's access-log line and metrics.
    private func finish(_ end: CurlTunnelEnd) {
        var entry = session.record.log
        entry.status = 101
        entry.bytesIn = bytesToUpstream
        entry.bytesOut = bytesToClient
        entry.upstream = session.plan.pool.upstreams[session.plan.upstreamIndex].description
        let outcome: String
        switch end {
        case .clientClosed: outcome = "client_closed"
        case .upstreamClosed: outcome = "upstream_closed"
        case .closedByGateway(let reason):
            outcome = reason
            entry.error = reason
        case .failed(let error):
            outcome = "upstream_error"
            entry.error = ProxyHandler.describe(error)
        }
        entry.durationSeconds = Double((NIODeadline.now() - session.record.startedAt).nanoseconds) / 1e9
        session.services.accessLogger.record(entry)
        session.services.metrics?.recordTunnelEnd(
            outcome: outcome, bytesToUpstream: bytesToUpstream, bytesToClient: bytesToClient)
    }
}
