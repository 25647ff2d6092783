/// One `[[routes]]` entry: which requests it takes and where and how they are forwarded.
public struct RouteConfig: Sendable, Equatable {
    public enum AuthMode: String, Sendable, CaseIterable {
        /// A valid bearer token is required.
        case required
        /// Anonymous requests pass without identity headers; an invalid token is still rejected.
        case optional
        /// Tokens are ignored (identity headers are still stripped from the client's request).
        case none
    }

    /// Starts with `/`. A prefix ending in `/` also matches the path without it (`/api/` takes `/api`).
    public var prefix: String
    public var upstreams: [UpstreamURL]
    public var auth = AuthMode.required
    public var stripPrefix = false
    public var forwardAuthorization = false
    /// `Upgrade: websocket` requests are authenticated and tunnelled (`[websocket]` limits); otherwise refused.
    public var websocket = false
    public var connectTimeout = Duration.seconds(2)
    /// The whole upstream exchange; zero means none (server-sent events, long polls).
    public var timeout = Duration.seconds(30)
    /// Upper-case method names; empty means every method.
    public var methods: [String] = []
    /// Matched against the request's Host without port, case-insensitively; nil means any host.
    public var host: String?
    /// CA bundle for `https://` upstreams; nil means the system bundle.
    public var caFile: String?
    public var insecureSkipVerify = false
    /// The `appid`s whose tokens may use the route; nil means every configured app. A token of another app gets 403
    /// `insufficient_scope` (RFC 6750 section 3.1) before any upstream connection.
    public var apps: [String]?
    /// Its index in the file, for messages and metrics labels (`routes[2]`).
    public var index: Int

    public init(prefix: String, upstreams: [UpstreamURL], index: Int = 0) {
        self.prefix = prefix
        self.upstreams = upstreams
        self.index = index
    }

    static func decode(_ reader: ConfigReader, index: Int) -> RouteConfig? {
        let prefix = reader.requiredString("prefix")
        if let prefix, !prefix.hasPrefix("/") || prefix.contains(where: { $0 == "?" || $0 == "#" || $0.isWhitespace }) {
            reader.report("prefix", "\"\(prefix)\" must be a path starting with / (no query, no spaces)")
        }
        var upstreams: [UpstreamURL] = []
        if let list = reader.stringArray("upstreams") {
            for (path, text) in list {
                if let url = UpstreamURL(configText: text) {
                    upstreams.append(url)
                } else {
                    reader.reportAt(
                        path,
                        "\"\(RedactedURL.text(text))\" is not an upstream URL "
                            + "(http://host:port, https://host or unix:/path)"
                    )
                }
            }
            if list.isEmpty { reader.report("upstreams", "must list at least one upstream") }
        } else if !reader.has("upstreams") {
            reader.report("upstreams", "is required (at least one upstream URL)")
        }
        var route = RouteConfig(prefix: prefix ?? "/", upstreams: upstreams, index: index)
        if let text = reader.string("auth") {
            if let mode = AuthMode(rawValue: text) {
                route.auth = mode
            } else {
                reader.report("auth", "\"\(text)\" is not an auth mode (required, optional, none)")
            }
        }
        if let flag = reader.bool("strip_prefix") { route.stripPrefix = flag }
        if let flag = reader.bool("forward_authorization") { route.forwardAuthorization = flag }
        if let flag = reader.bool("websocket") { route.websocket = flag }
        if let duration = reader.duration("connect_timeout") {
            if duration > .zero {
                route.connectTimeout = duration
            } else {
                reader.report("connect_timeout", "must be greater than zero")
            }
        }
        if let duration = reader.duration("timeout") { route.timeout = duration }
        if let methods = reader.stringArray("methods") {
            for (path, method) in methods {
                if HeaderName.isValid(method) {
                    route.methods.append(method.uppercased())
                } else {
                    reader.reportAt(path, "\"\(method)\" is not an HTTP method")
                }
            }
        }
        if let host = reader.string("host") {
            if host.isEmpty || host.contains(where: { $0.isWhitespace || $0 == "/" }) {
                reader.report("host", "\"\(host)\" is not a host name")
            } else {
                route.host = host.lowercased()
            }
        }
        if let list = reader.stringArray("apps") {
            if list.isEmpty {
                reader.report("apps", "must list at least one appid (leave it out to allow every app)")
            } else if route.auth == .none {
                reader.report("apps", "needs auth = \"required\" or \"optional\" (auth = \"none\" checks no token)")
            }
            route.apps = list.map(\.value)
        }
        route.caFile = reader.string("ca_file")
        if let flag = reader.bool("insecure_skip_verify") { route.insecureSkipVerify = flag }
        reader.rejectUnknownKeys()
        return prefix == nil ? nil : route
    }
}
