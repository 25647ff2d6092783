import XCTest

@testable import GatewayCore

/// `[websocket]`'s limits: read, checked, and `max_tunnels` bounded by `[server] max_connections`.
final class WebSocketConfigTests: XCTestCase {
    private static let base = """
        [wechat]
        [[wechat.apps]]
        appid = "wx1"
        secret = "s"
        [tokens]
        secret = "0123456789abcdef0123456789abcdef"

        """

    private func parse(_ text: String) -> Result<GatewayConfiguration, ConfigError> {
        ConfigLoader(environment: [:]).parse(text: Self.base + text)
    }

    func testWebSocketLimitsAreReadAndChecked() throws {
        let config = try parse(
            """
            [websocket]
            idle_timeout = "2m"
            max_tunnels = 3
            buffer = "64KiB"
            """
        ).get()
        XCTAssertEqual(config.websocket.idleTimeout, .seconds(120))
        XCTAssertEqual(config.websocket.maxTunnels, 3)
        XCTAssertEqual(config.websocket.buffer.bytes, 64 << 10)
        XCTAssertEqual(config.websocket.maxTunnelsPerUser, 16)
        XCTAssertEqual(config.websocket.maxBuffered.bytes, 256 << 20)
        let bad = parse(
            """
            [websocket]
            max_tunnels = 0
            buffer = "1KiB"
            idle = "1s"
            max_tunnels_per_user = 0
            max_buffered = "1KiB"
            """)
        guard case .failure(let issues) = bad else { return XCTFail("accepted") }
        let text = "\(issues)"
        for key in [
            "websocket.max_tunnels_per_user", "websocket.max_buffered", "websocket.max_tunnels", "websocket.buffer",
            "websocket.idle",
        ] {
            XCTAssertTrue(text.contains(key), "\(key): \(text)")
        }
    }

    func testMaxTunnelsCannotExceedMaxConnections() throws {
        let result = parse(
            """
            [server]
            max_connections = 100
            [websocket]
            max_tunnels = 101
            max_tunnels_per_user = 4
            max_buffered = "16MiB"
            """)
        guard case .failure(let error) = result else { return XCTFail("accepted") }
        XCTAssertEqual(error.issues.map(\.path), ["websocket.max_tunnels"])
        XCTAssertTrue("\(error)".contains("server.max_connections"), "\(error)")
        // Unset, it follows a smaller max_connections.
        let followed = try parse("[server]\nmax_connections = 100\n").get()
        XCTAssertEqual(followed.websocket.maxTunnels, 100)
    }
}
