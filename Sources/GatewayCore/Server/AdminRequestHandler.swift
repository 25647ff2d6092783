import NIOCore
import NIOHTTP1
import Tokens

/// Answers one admin connection's requests (`AdminEndpoint`). Request bodies are ignored; answers are
/// small and written whole. Readiness asks the store, so it is answered from a `Task`: the admin plane is
/// not the hot path and may use async/await (DESIGN.md section 2).
final class AdminRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let probes: AdminServer.Probes
    private var head: HTTPRequestHead?

    init(probes: AdminServer.Probes) {
        self.probes = probes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        switch AdminEndpoint(method: head.method, uri: head.uri) {
        case .health:
            write(.ok, json: "{\"status\":\"up\"}", for: head, context: context)
        case .metrics:
            probes.beforeScrape()
            var buffer = context.channel.allocator.buffer(capacity: 16_384)
            buffer.writeBytes(probes.metrics.exposition())
            // The text format's media type (Prometheus "Exposition formats", version 0.0.4).
            write(.ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: buffer, for: head, context: context)
        case .readiness:
            let readiness = probes.readiness
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.makeFutureWithTask { await readiness() }.whenSuccess { answer in
                let (handler, context) = bound.value
                switch answer {
                case .ready:
                    handler.write(.ok, json: "{\"status\":\"ready\"}", for: head, context: context)
                case .notReady(let reason):
                    handler.write(.serviceUnavailable,
                        json: "{\"status\":\"not_ready\",\"reason\":\"\(JSONString.escape(reason))\"}", for: head, context: context)
                }
            }
        case .notFound:
            write(.notFound, json: "{\"error\":\"not_found\"}", for: head, context: context)
        case .methodNotAllowed:
            write(.methodNotAllowed, json: "{\"error\":\"method_not_allowed\"}", for: head, context: context,
                extraHeaders: [("Allow", "GET, HEAD")])
        }
    }

    private func write(
        _ status: HTTPResponseStatus, json: String, for head: HTTPRequestHead, context: ChannelHandlerContext,
        extraHeaders: [(String, String)] = []
    ) {
        var buffer = context.channel.allocator.buffer(capacity: json.utf8.count)
        buffer.writeString(json)
        write(status, contentType: "application/json; charset=utf-8", body: buffer, for: head, context: context,
            extraHeaders: extraHeaders)
    }

    private func write(
        _ status: HTTPResponseStatus, contentType: String, body: ByteBuffer, for head: HTTPRequestHead,
        context: ChannelHandlerContext, extraHeaders: [(String, String)] = []
    ) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(body.readableBytes))])
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Date", value: HTTPDate.now())
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil)
        if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !head.isKeepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
