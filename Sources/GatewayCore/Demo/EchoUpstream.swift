import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The demo's stand-in for a legacy service: answers every request with JSON describing what arrived,
/// so a new user sees the identity headers the gateway injected.
public final class EchoUpstream: Sendable {
    private let group: any EventLoopGroup

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    public func bind(host: String, port: Int) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(EchoHandler())
                }
            }
            .bind(host: host, port: port).get()
    }
}

/// Collects a request and answers with `{"method", "path", "headers", "body_bytes"}`.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var head: HTTPRequestHead?
    private var bodyBytes = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            guard let head else { return }
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name] = headers[name].map { "\($0), \(value)" } ?? value }
            let object: [String: Any] = ["method": head.method.rawValue, "path": head.uri, "headers": headers, "body_bytes": bodyBytes]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
            var response = HTTPHeaders()
            response.add(name: "Content-Type", value: "application/json")
            response.add(name: "Content-Length", value: String(data.count + 1))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: response))), promise: nil)
            var buffer = context.channel.allocator.buffer(capacity: data.count + 1)
            buffer.writeBytes(data)
            buffer.writeString("\n")
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            self.head = nil
        }
    }
}
