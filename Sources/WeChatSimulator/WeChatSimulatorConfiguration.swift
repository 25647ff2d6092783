import WeChat

/// What the simulator knows: the apps it accepts and where it listens.
public struct WeChatSimulatorConfiguration: Sendable {
    /// appid → app secret. Any other appid is answered with 40013.
    public var apps: [String: String]
    public var host: String
    /// 0 picks a free port; `WeChatSimulator.start()` returns the bound one.
    public var port: Int
    /// `expires_in` of a fresh stable access token (WeChat: 7200 s).
    public var accessTokenLifetime: Duration
    /// How long a code starting with `slow` (without `:MS`) is held before the answer.
    public var slowCodeDelay: Duration
    /// Hosts besides loopback ones an authorize page may redirect to (WeChat's registered callback domains).
    public var redirectHosts: [String]

    public init(
        apps: [String: String],
        host: String = "127.0.0.1",
        port: Int = 9100,
        accessTokenLifetime: Duration = .seconds(7200),
        slowCodeDelay: Duration = .seconds(10),
        redirectHosts: [String] = []
    ) {
        self.redirectHosts = redirectHosts
        self.apps = apps
        self.host = host
        self.port = port
        self.accessTokenLifetime = accessTokenLifetime
        self.slowCodeDelay = slowCodeDelay
    }
}
