import NIOCore

/// The whole pipeline of a connection accepted over `[server] max_connections`: closes it as soon as it is
/// active, before a byte is read. Closing from a handler rather than in the child-channel initializer lets NIO
/// finish registering the channel first, so the close is an ordinary one.
final class OverLimitConnectionCloser: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { context.close(promise: nil) }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
