import CurlHTTP
import NIOCore

/// The client side of an open tunnel: replaces the HTTP handlers once the upstream has switched protocols and relays
/// raw bytes to and from the tunnel, with back-pressure both ways, until either side ends it. Writes the tunnel's one
/// access-log line at its end.
///
/// Client → upstream: reads are held while the tunnel's queue is at `[websocket] buffer`, or all tunnels hold
/// `max_buffered` (`send` returned false), and resume on `.canSendMore`. Upstream → client: bytes are acknowledged
/// (`delivered`) once the socket has taken them (the promise of each batch's last write), so bytes waiting in the
/// channel count against both limits, and the tunnel stops reading the upstream while a slow client leaves them
/// there.
final class TunnelRelay: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let session: TunnelSession
    private let tunnel: CurlTunnel
    private var context: ChannelHandlerContext?
    private var readsHeld = false
    private var readPending = false
    /// The batch's last write, held back so that it alone carries a promise, and the bytes written before it in
    /// the batch: all are acknowledged when that promise completes.
    private var lastWrite: ByteBuffer?
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
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(lastWrite ?? ByteBuffer())), promise: written)
            lastWrite = nil
            needsFlush = false
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            return false
        }
        guard let context else { return false }
        switch event {
        case .data(let buffer):
            bytesToClient += buffer.readableBytes
            if let previous = lastWrite { context.write(wrapOutboundOut(.byteBuffer(previous)), promise: nil) }
            lastWrite = buffer
            unacknowledged += buffer.readableBytes
            needsFlush = true
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
        guard let last = lastWrite else { return context.flush() }
        lastWrite = nil
        // Writes complete in order: this one's promise says every byte of the batch reached the socket. A failed
        // write (the client gone) is acknowledged too; the tunnel is ending then, and gives back what it held.
        let bytes = unacknowledged
        unacknowledged = 0
        let tunnel = self.tunnel
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in tunnel.delivered(bytes) }
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(last)), promise: written)
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
        session.record.trace?.end(entry, kind: "websocket")
        session.services.metrics?.recordTunnelEnd(
            outcome: outcome, bytesToUpstream: bytesToUpstream, bytesToClient: bytesToClient)
    }
}
