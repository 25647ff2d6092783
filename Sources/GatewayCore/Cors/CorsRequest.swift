/// What the CORS protocol reads of a request head (Fetch standard, "HTTP requests" of the CORS protocol): its method,
/// its `Origin` and, on a preflight, `Access-Control-Request-Method` and `-Headers`. Plain strings, built by the
/// engine from the head's byte view (`EngineRequestPlanner.corsRequest`) and by the unit tests.
public struct CorsRequest: Sendable, Equatable {
    public var method: String
    /// The first `Origin` line, and how many there were: a browser sends exactly one.
    public var origin: String?
    public var originCount: Int
    /// The first `Access-Control-Request-Method` line.
    public var requestMethod: String?
    /// Whether the request is an upgrade to WebSocket (checked against `check_websocket_origin`).
    public var isWebSocketUpgrade: Bool

    public init(
        method: String, origin: String?, originCount: Int? = nil, requestMethod: String? = nil,
        isWebSocketUpgrade: Bool = false
    ) {
        self.method = method
        self.origin = origin
        self.originCount = originCount ?? (origin == nil ? 0 : 1)
        self.requestMethod = requestMethod
        self.isWebSocketUpgrade = isWebSocketUpgrade
    }

    /// A CORS-preflight request: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. An OPTIONS without
    /// the latter is an ordinary request (a client asking the upstream what it allows) and goes on as one.
    public var isPreflight: Bool { method == "OPTIONS" && origin != nil && requestMethod != nil }
}
