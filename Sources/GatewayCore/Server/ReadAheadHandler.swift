import NIOCore

/// Keeps a client connection's read interest registered while a request is in flight, up to a byte budget.
///
/// NIO's pipelining handler withholds `read()` from the moment a request has been received until its response has
/// ended, so every request made NIO take the socket out of the epoll set and put it back: two `epoll_ctl` calls per
/// request, as many as the request's own read and write. This handler, first in the pipeline, asks for the next read
/// itself after each burst as long as fewer than `budget` bytes have arrived since the handlers behind it last asked
/// for one; a client that sends nothing while it waits (nearly all of them) then costs no system call. While its own
/// read is pending NIO does not ask the handlers behind, so the budget spans requests: once it is spent, the next
/// read is theirs to ask for (or withhold) and it starts again, which costs a keep-alive connection the two calls
/// once per `budget` bytes of requests instead of once per request.
///
/// What is read ahead is held by the handlers behind (a pipelined request by the pipelining handler, request-body
/// bytes by the proxy's upload queue), so `budget` bounds what a client can make the gateway hold beyond their own
/// back-pressure, on top of the one read burst NIO takes anyway. Only reads renew it, never answers going out: a
/// response streaming while the client uploads must not let the upload outrun the upstream. A client's end of input
/// is seen as before: NIO watches for it (EPOLLRDHUP) whether reads are held or not.
final class ReadAheadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = Never

    private let budget: Int
    /// Bytes read since the handlers behind last asked for a read.
    private var unrequestedBytes = 0

    init(budget: Int = 64 * 1024) {
        self.budget = budget
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        unrequestedBytes += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        // At an end of input NIO fires this just before it closes the channel (half-closure is not allowed): a read
        // asked for then is dropped with the channel.
        if unrequestedBytes < budget && context.channel.isActive {
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        unrequestedBytes = 0
        context.read()
    }
}
