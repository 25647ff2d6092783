import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The one small HTTP/1.1 server behind the gateway's side listeners (admin, WeChat simulator, demo echo
/// upstream): it collects a request whole, asks `respond`, and writes the answer. None of them is on the
/// proxy's hot path, so simplicity wins over speed here: a `Task` per request is fine.
///
/// What every such listener needs and had written three times: a bounded body (413 past it), a client
/// timeout (a request must arrive whole in time; a trickling client is cut off), an idle timeout between
/// keep-alive requests, parse errors answered 400 by NIO, and `stop()` closing every open connection.
public final class SmallHTTPServer: Sendable {
    public struct Limits: Sendable {
        public var maxBodyBytes: Int
        /// From a request's first byte to its end.
        public var clientTimeout: TimeAmount
        /// Between requests on a kept-alive connection.
        public var idleTimeout: TimeAmount

        public init(
            maxBodyBytes: Int = 64 * 1024, clientTimeout: TimeAmount = .seconds(10),
            idleTimeout: TimeAmount = .seconds(60)
        ) {
            self.maxBodyBytes = maxBodyBytes
            self.clientTimeout = clientTimeout
            self.idleTimeout = idleTimeout
        }
    }

    public typealias Responder = @Sendable (SmallRequest) async -> SmallResponse

    private let group: any EventLoopGroup
    private let limits: Limits
    private let respond: Responder
    private let channels = NIOLockedValueBox(Channels())

    private struct Channels {
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    public init(group: any EventLoopGroup, limits: Limits = Limits(), respond: @escaping Responder) {
        self.group = group
        self.limits = limits
        self.respond = respond
    }

    /// Binds the listener and returns its channel (`localAddress` tells the port when 0 was asked).
    public func bind(host: String, port: Int) async throws -> any Channel {
        let limits = self.limits
        let respond = self.respond
        let channels = self.channels
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                channels.withLockedValue { $0.connections[id] = channel }
                channel.closeFuture.whenComplete { _ in channels.withLockedValue { $0.connections[id] = nil } }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try sync.addHandler(SmallHTTPHandler(limits: limits, respond: respond))
                }
            }
            .bind(host: host, port: port).get()
        channels.withLockedValue { $0.listener = listener }
        return listener
    }

    /// Closes the listener and every open connection.
    public func stop() async {
        let (listener, connections) = channels.withLockedValue { channels in
            defer { channels.listener = nil }
            return (channels.listener, Array(channels.connections.values))
        }
        try? await listener?.close()
        for connection in connections {
            try? await connection.close()
        }
    }
}
