import NIOCore
import NIOHTTP1

/// Collects one request at a time (NIO's pipelining assistance holds the next one back), answers it, and
/// enforces `SmallHTTPServer.Limits`. State is an enum whose cases carry what is valid in them.
final class SmallHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests (the idle timer runs).
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        /// Over the body limit: the rest is read and dropped, then 413 and close.
        case discarding(HTTPRequestHead)
        /// `respond` is working on it.
        case answering
    }

    private let limits: SmallHTTPServer.Limits
    private let respond: SmallHTTPServer.Responder
    private var state = State.idle
    private var timer: Scheduled<Void>?

    init(limits: SmallHTTPServer.Limits, respond: @escaping SmallHTTPServer.Responder) {
        self.limits = limits
        self.respond = respond
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(limits.idleTimeout, context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(limits.idleTimeout, context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            arm(limits.clientTimeout, context: context)
            state = .receiving(head, context.channel.allocator.buffer(capacity: 0))
        case .body(var chunk):
            guard case .receiving(let head, var body) = state else { return }
            if body.readableBytes + chunk.readableBytes > limits.maxBodyBytes {
                state = .discarding(head)
            } else {
                body.writeBuffer(&chunk)
                state = .receiving(head, body)
            }
        case .end:
            switch state {
            case .receiving(let head, let body):
                timer?.cancel()
                state = .answering
                let respond = self.respond
                let request = SmallRequest(head: head, body: body)
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.makeFutureWithTask { await respond(request) }.whenSuccess { response in
                    let (handler, context) = bound.value
                    handler.write(response, for: head, context: context)
                }
            case .discarding(let head):
                write(
                    .json(.payloadTooLarge, "{\"error\":\"request body too large\"}"), for: head, context: context,
                    close: true)
            case .idle, .answering:
                break
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func write(
        _ response: SmallResponse, for head: HTTPRequestHead, context: ChannelHandlerContext, close: Bool = false
    ) {
        state = .idle
        guard context.channel.isActive else { return }
        let closes = close || !head.isKeepAlive
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
        // RFC 9110 section 6.6.1: an origin server with a clock dates its answers.
        headers.replaceOrAdd(name: "Date", value: HTTPDate.now())
        if closes { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))),
            promise: nil)
        if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if closes {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        } else {
            arm(limits.idleTimeout, context: context)
        }
    }

    /// One timer at a time: the idle timer between requests, the client timer while one is read.
    private func arm(_ timeout: TimeAmount, context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}
