import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import SmallHTTP
import WeChat

/// A local stand-in for `api.weixin.qq.com` (docs/architecture.md, "Beside the serving path"): a real HTTP/1.1
/// server with WeChat's paths, JSON shapes and errcodes, for the demo, development and tests.
///
/// Promises: the same answers as WeChat for the covered APIs (errors are HTTP 200 with errcode),
/// single-use codes, stable per-app openids, and no crash on malformed input. Codes choose the
/// outcome: `invalid…` 40029, `busy…` -1, `limit…` 45011, `blocked…` 40226, `slow[:MS]…` held
/// before answering, `openid:X` gives openid X, a `+union` suffix adds a unionid,
/// `phone:NUMBER` (phone codes) gives that number. The web login (`/connect/oauth2/authorize`, `/connect/qrconnect`,
/// `/sns/oauth2/…`, `/sns/userinfo`) is described in docs/wechat.md, "The simulator's web login".
public final class WeChatSimulator: Sendable {
    public let configuration: WeChatSimulatorConfiguration
    private let group: any EventLoopGroup
    private let state = SimulatorState()
    private let server = NIOLockedValueBox<(server: SmallHTTPServer, channel: (any Channel)?)?>(nil)

    public init(
        configuration: WeChatSimulatorConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.group = group
    }

    /// Binds and starts answering; returns the port (the configured one, or the one the OS chose for 0).
    @discardableResult
    public func start() async throws -> Int {
        let router = SimulatorRouter(configuration: configuration, state: state)
        let server = SmallHTTPServer(group: group) { request in
            let response = router.respond(
                to: SimulatorRequest(
                    method: request.method.rawValue, uri: request.uri, body: Data(request.body.readableBytesView)))
            // A held answer is a sleep in this request's own task: other connections are not held up.
            if let delay = response.delay { try? await Task.sleep(for: delay) }
            guard let page = response.page else {
                return SmallResponse(
                    status: HTTPResponseStatus(statusCode: response.status),
                    headers: [("Content-Type", "application/json; charset=utf-8")],
                    body: ByteBuffer(bytes: response.body.serialized()))
            }
            var headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
            if let location = response.location { headers.append(("Location", location)) }
            return SmallResponse(
                status: HTTPResponseStatus(statusCode: response.status), headers: headers,
                body: ByteBuffer(string: page))
        }
        let channel = try await server.bind(host: configuration.host, port: configuration.port)
        self.server.withLockedValue { $0 = (server, channel) }
        return channel.localAddress?.port ?? configuration.port
    }

    /// The bound port, once started.
    public var port: Int? {
        server.withLockedValue { $0?.channel?.localAddress?.port }
    }

    /// Closes the listener and every open connection.
    public func stop() async {
        let running = server.withLockedValue { current in
            defer { current = nil }
            return current?.server
        }
        await running?.stop()
    }

    public func sessionKey(forOpenID openID: String) -> String? {
        state.sessionKey(forOpenID: openID)
    }

    public func requestCount(path: String) -> Int {
        state.requestCount(path: path)
    }

    /// Test aid: the web access tokens of `openID` expire now, so the next `/sns/userinfo` answers 42001.
    @discardableResult
    public func expireWebAccessTokens(openID: String) -> Int {
        state.web.expireAccessTokens(openID: openID)
    }

    public func invalidateAccessTokens(appID: String) {
        state.invalidateTokens(appID: appID)
    }
}
