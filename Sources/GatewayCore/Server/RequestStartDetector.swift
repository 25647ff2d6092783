import NIOCore

/// Sits before the HTTP parser and tells the proxy handler when the first bytes of a new request arrive,
/// so `client_timeout` also bounds a client that trickles its header block (slowloris), not only its body.
/// Both handlers live on the connection's event loop; between requests this costs one flag check per read.
final class RequestStartDetector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let proxy: ProxyHandler

    init(proxy: ProxyHandler) {
        self.proxy = proxy
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if proxy.isAwaitingRequest { proxy.requestBytesArrived() }
        context.fireChannelRead(data)
    }
}
