/// `[cors]`: which browser origins may call the gateway from another origin (the Fetch standard's CORS protocol).
/// Without the section the gateway does nothing about CORS, as before it had one: preflights go upstream like any
/// OPTIONS and the upstream's own `Access-Control-*` fields pass. With it the gateway owns CORS for every path.
public struct CorsConfig: Sendable, Equatable {
    /// Exact origins as browsers send them (`CorsOrigin.normalize`). Empty: no origin may read answers.
    public var allowOrigins: [String] = []
    /// `Access-Control-Allow-Methods` of a preflight answer. GET, HEAD and POST need no listing (CORS-safelisted).
    public var allowMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    /// `Access-Control-Allow-Headers`: the configured names after the ones the gateway's own protocol needs.
    public var allowHeaders = CorsConfig.alwaysAllowedHeaders + ["X-Request-Id"]
    /// `Access-Control-Expose-Headers`: the gateway's own fields, which the client library reads, then these.
    public var exposeHeaders = CorsConfig.alwaysExposedHeaders
    /// `Access-Control-Max-Age`: how long a browser may reuse a preflight answer (Chromium caps it at 2h).
    public var maxAge = Duration.seconds(600)
    /// `Access-Control-Allow-Credentials: true`. Off by default: the gateway authenticates with a bearer token in
    /// `Authorization`, which a browser sends on a cross-origin `fetch` without credentials mode "include"; the field
    /// only matters to pages that send cookies (or TLS client certificates), which the gateway does not use.
    public var allowCredentials = false
    /// Refuse (403) a WebSocket upgrade whose `Origin` is not in `allowOrigins`; upgrades without `Origin` pass.
    public var checkWebSocketOrigin = false

    /// Always allowed: a bearer token and a JSON body are how the gateway is spoken to.
    public static let alwaysAllowedHeaders = ["Authorization", "Content-Type"]
    /// Always exposed: what the client library reads from an answer (the gateway's mark decides whether a 401 may
    /// be retried after a refresh; `Retry-After` on 429 and 503; the challenge; the request id for support).
    public static let alwaysExposedHeaders = ["X-Request-Id", "X-Gateway-Error", "Retry-After", "WWW-Authenticate"]

    public init() {}

    /// nil when the section is absent: CORS stays off.
    static func decode(_ reader: ConfigReader?) -> CorsConfig? {
        guard let reader else { return nil }
        var config = CorsConfig()
        if let entries = reader.stringArray("allow_origins") {
            for entry in entries {
                switch CorsOrigin.normalize(entry.value) {
                case .success(let origin):
                    if !config.allowOrigins.contains(origin) { config.allowOrigins.append(origin) }
                case .failure(let problem):
                    reader.reportAt(entry.path, problem.description)
                }
            }
        } else if !reader.has("allow_origins") {
            reader.report("allow_origins", "is required in [cors] (exact origins such as \"https://h5.example.com\")")
        }
        if let methods = reader.stringArray("allow_methods") {
            config.allowMethods = names(methods, in: reader, what: "a method", always: [])
        }
        if let headers = reader.stringArray("allow_headers") {
            config.allowHeaders = names(headers, in: reader, what: "a header name", always: alwaysAllowedHeaders)
        }
        if let headers = reader.stringArray("expose_headers") {
            config.exposeHeaders = names(headers, in: reader, what: "a header name", always: alwaysExposedHeaders)
        }
        if let duration = reader.duration("max_age") {
            if duration < .zero || duration > .seconds(86_400) {
                reader.report("max_age", "must be between 0 and 24h (browsers cap it lower: Chromium at 2h)")
            } else if duration.milliseconds % 1000 != 0 {
                reader.report("max_age", "must be whole seconds (Access-Control-Max-Age counts seconds)")
            } else {
                config.maxAge = duration
            }
        }
        if let flag = reader.bool("allow_credentials") { config.allowCredentials = flag }
        if let flag = reader.bool("check_websocket_origin") { config.checkWebSocketOrigin = flag }
        reader.rejectUnknownKeys()
        return config
    }

    /// `always`, then the configured tokens not already there (compared ignoring case). `"*"` is refused: in
    /// these fields it is a wildcard only for requests without credentials, never covers `Authorization` (Fetch
    /// standard, "CORS protocol"), and would hide which names a front end relies on.
    private static func names(
        _ entries: [(path: String, value: String)], in reader: ConfigReader, what: String, always: [String]
    ) -> [String] {
        var result = always
        for entry in entries {
            if entry.value == "*" {
                reader.reportAt(entry.path, "\"*\" is refused: list the names (a wildcard never covers Authorization)")
            } else if !HeaderName.isValid(entry.value) {
                reader.reportAt(entry.path, "\"\(entry.value)\" is not \(what)")
            } else if !result.contains(where: { $0.lowercased() == entry.value.lowercased() }) {
                result.append(entry.value)
            }
        }
        return result
    }
}
