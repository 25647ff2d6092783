import Tokens

/// `[wechat]` and its `[[wechat.apps]]`: where the WeChat API is and which apps (mini-programs, official account
/// pages, websites) log in here.
public struct WeChatConfig: Sendable, Equatable {
    /// Without a trailing slash. The default is WeChat's own API: an omitted `api_base` must never send the AppSecret
    /// (in the `jscode2session` query) in clear text to whatever listens on a loopback port, nor take that
    /// listener's answer as a user's identity. The simulator is always named explicitly (the shipped gateway.conf).
    public var apiBase = WeChatConfig.officialAPIBase
    public static let officialAPIBase = "https://api.weixin.qq.com"
    public var timeout = Duration.seconds(5)
    public var apps: [App] = []

    public init() {}

    /// One app. The secret is redacted from `description` so it never reaches a log.
    public struct App: Sendable, Equatable, CustomStringConvertible {
        public var appid: String
        public var secret: String
        /// Which WeChat login its codes come from: `jscode2session` for a mini-program, the web authorization
        /// (`/sns/oauth2/access_token`) for an official account page or a website.
        public var kind: AppKind

        public init(appid: String, secret: String, kind: AppKind = .miniprogram) {
            self.appid = appid
            self.secret = secret
            self.kind = kind
        }

        public var description: String { "App(appid: \(appid), kind: \(kind.rawValue), secret: <redacted>)" }
    }

    /// The kind of the app `appid`; a mini-program when it is not configured (tokens from before app kinds).
    public func kind(ofApp appid: String?) -> AppKind {
        apps.first { $0.appid == appid }?.kind ?? .miniprogram
    }

    static func decode(_ reader: ConfigReader?) -> WeChatConfig {
        var config = WeChatConfig()
        guard let reader else {
            return config
        }
        if let text = reader.string("api_base") {
            if let url = UpstreamURL(configText: text), url.unixSocketPath == nil, url.basePath.isEmpty {
                config.apiBase = "\(url.scheme.rawValue)://\(url.authority)"
            } else {
                reader.report(
                    "api_base",
                    "\"\(RedactedURL.text(text))\" is not an http(s) base URL such as https://api.weixin.qq.com")
            }
        }
        if let timeout = reader.duration("timeout") {
            if timeout > .zero {
                config.timeout = timeout
            } else {
                reader.report("timeout", "must be greater than zero")
            }
        }
        var seen: Set<String> = []
        for app in reader.tableArray("apps") ?? [] {
            let appid = app.requiredString("appid")
            let secret = app.requiredString("secret")
            if let appid {
                // The appid goes into every token and an X-AppId line upstream: no control character (a CR or LF
                // would start a header line of its own) and no space.
                if appid.isEmpty || appid.contains(where: { $0.isWhitespace })
                    || appid.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F })
                {
                    app.report("appid", "must be a non-empty appid without spaces or control characters")
                } else if !seen.insert(appid).inserted {
                    app.report("appid", "\"\(appid)\" is configured twice")
                }
            }
            if let secret, secret.isEmpty {
                app.report("secret", "must not be empty")
            }
            var kind = AppKind.miniprogram
            if let text = app.string("kind") {
                if let known = AppKind(rawValue: text) {
                    kind = known
                } else {
                    app.report(
                        "kind",
                        "\"\(text)\" is not an app kind: use \"miniprogram\", \"officialaccount\" or \"website\"")
                }
            }
            if let appid, let secret {
                config.apps.append(App(appid: appid, secret: secret, kind: kind))
            }
            app.rejectUnknownKeys()
        }
        reader.rejectUnknownKeys()
        return config
    }
}
