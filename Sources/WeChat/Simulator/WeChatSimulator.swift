import NIOCore
import NIOHTTP1
import NIOPosix

/// A local stand-in for `api.weixin.qq.com` (DESIGN.md section 7): a real HTTP/1.1 server with
/// WeChat's paths, JSON shapes and errcodes, for the demo, development and tests.
///
/// Promises: the same answers as WeChat for the covered APIs (errors are HTTP 200 with errcode),
/// single-use codes, stable per-app openids, and no crash on malformed input. Codes choose the
/// outcome: `invalid…` 40029, `busy…` -1, `limit…` 45011, `blocked…` 40226, `slow[:MS]…` held
/// before answering, `openid:X` gives openid X, a `+union` suffix adds a unionid,
/// `phone:NUMBER` (phone codes) gives that number.
public final class WeChatSimulator: Sendable {
    public let configuration: WeChatSimulatorConfiguration
    private let group: any EventLoopGroup
    private let state = SimulatorState()
    private let channels = LockedBox(Channels())

    private struct Channels {
        var server: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    public init(
        configuration: WeChatSimulatorConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.group = group
    }

    /// Binds and starts answering; returns the bound port (useful with `port: 0`).
    @discardableResult
    public func start() async throws -> Int {
        let router = SimulatorRouter(configuration: configuration, state: state)
        let channels = self.channels
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                channels.withLock { $0.connections[id] = channel }
                channel.closeFuture.whenComplete { _ in channels.withLock { $0.connections[id] = nil } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(SimulatorHTTPHandler(router: router))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        channels.withLock { $0.server = server }
        return server.localAddress?.port ?? configuration.port
    }

    /// The bound port while running.
    public var port: Int? {
        channels.withLock { $0.server?.localAddress?.port }
    }

    /// Stops listening and closes every open connection, including ones waiting on a held answer.
    public func stop() async {
        let (server, connections) = channels.withLock { channels in
            defer { channels.server = nil }
            return (channels.server, Array(channels.connections.values))
        }
        try? await server?.close()
        for connection in connections {
            try? await connection.close()
        }
    }

    /// The newest session_key handed out for `openID`, so tests can encrypt user data with it.
    public func sessionKey(forOpenID openID: String) -> String? {
        state.sessionKey(forOpenID: openID)
    }

    /// How many requests arrived for `path` (without query), e.g. "/sns/jscode2session".
    public func requestCount(path: String) -> Int {
        state.requestCount(path: path)
    }

    /// Forgets the access tokens of `appID`, so their next use is answered with 40001.
    public func invalidateAccessTokens(appID: String) {
        state.invalidateTokens(appID: appID)
    }
}
