import NIOCore
import NIOHTTP1

/// Answers requests that NIO's parser rejects: 431 when the header block is over `max_header_bytes`,
/// 400 for anything else malformed, then the connection is closed (RFC 9112 section 2.2: after a
/// framing error the rest of the stream cannot be trusted). Replaces NIO's own error handler, which
/// answers 400 to everything.
final class ProtocolErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var responseInProgress = false
    private let onError: @Sendable (GatewayError) -> Void

    /// - Parameter onError: told about each rejected request, for the access log and metrics.
    init(onError: @escaping @Sendable (GatewayError) -> Void) {
        self.onError = onError
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let answer: GatewayError = parserError == .headerOverflow ? .headersTooLarge : .malformedRequest
        onError(answer)
        if !responseInProgress {
            let body = answer.jsonBody(requestID: "-")
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            headers.add(name: "Connection", value: "close")
            let head = HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code < 200: break
        case .head: responseInProgress = true
        case .body: break
        case .end: responseInProgress = false
        }
        context.write(data, promise: promise)
    }
}
