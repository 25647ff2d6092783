import Foundation
import NIOCore
import NIOHTTP1

/// Collects one HTTP/1.1 request at a time (NIOHTTP1's pipelining handler orders them), asks the
/// router, and writes the JSON answer, after the router's hold time when it asks for one.
final class SimulatorHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Request bodies of WeChat's APIs are tiny; anything larger is refused rather than buffered.
    static let maxBodyBytes = 64 * 1024

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        case discardingOversizedBody(HTTPRequestHead)
    }

    private var state = State.idle
    private let router: SimulatorRouter

    init(router: SimulatorRouter) {
        self.router = router
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            state = .receiving(head, context.channel.allocator.buffer(capacity: 0))
        case .body(var chunk):
            guard case .receiving(let head, var body) = state else { return }
            if body.readableBytes + chunk.readableBytes > Self.maxBodyBytes {
                state = .discardingOversizedBody(head)
            } else {
                body.writeBuffer(&chunk)
                state = .receiving(head, body)
            }
        case .end:
            switch state {
            case .idle:
                return
            case .receiving(let head, var body):
                state = .idle
                let bytes = body.readBytes(length: body.readableBytes) ?? []
                let request = SimulatorRequest(method: head.method.rawValue, uri: head.uri, body: Data(bytes))
                send(router.respond(to: request), keepAlive: head.isKeepAlive, version: head.version, context: context)
            case .discardingOversizedBody(let head):
                state = .idle
                send(.error(413, "request body too large", status: 413), keepAlive: false, version: head.version,
                     context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func send(
        _ response: SimulatorResponse, keepAlive: Bool, version: HTTPVersion, context: ChannelHandlerContext
    ) {
        guard let delay = response.delay else {
            write(response, keepAlive: keepAlive, version: version, context: context)
            return
        }
        // Scheduled on the channel's own loop: a held answer never blocks other connections.
        context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
            guard context.channel.isActive else { return }
            self.write(response, keepAlive: keepAlive, version: version, context: context)
        }
    }

    private func write(
        _ response: SimulatorResponse, keepAlive: Bool, version: HTTPVersion, context: ChannelHandlerContext
    ) {
        let json = response.body.encoded()
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: String(json.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status),
                                    headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: json)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
