/// `[cors]` as decisions (Fetch standard, "CORS protocol"): given what a request says of itself (`CorsRequest`), what
/// the gateway does about CORS. Pure and built once per configuration snapshot, so a reload swaps it whole; every
/// field value it writes is computed here, once.
///
/// - A preflight from an allowed origin is answered by the gateway (204), before authentication and routing, for any
///   path: a preflight carries no credentials, so an upstream could only answer it wrongly.
/// - A preflight from any other origin is answered too (403, no CORS fields: the browser then blocks the request),
///   never forwarded.
/// - Every other answer, the gateway's own and the upstream's, gets `Vary: Origin`, and for an allowed origin
///   `Access-Control-Allow-Origin` with that exact origin and `Access-Control-Expose-Headers`. The upstream's own
///   `Access-Control-*` fields are dropped (`ownsField`), so a legacy service cannot widen the policy.
public struct CorsPolicy: Sendable {
    /// One response field line.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// What the gateway does about CORS for one request.
    public enum Decision: Sendable, Equatable {
        /// Answer this preflight itself: `204 No Content` with these fields.
        case answerPreflight([Field])
        /// A preflight from an origin that is not allowed: answered by the gateway, without CORS fields.
        case refusePreflight
        /// A WebSocket upgrade from an origin that is not allowed, with `check_websocket_origin` on: refused.
        case refuseWebSocket
        /// An ordinary request: its answer, whoever makes it, gets these fields.
        case decorate(AnswerFields)
    }

    /// The fields an ordinary request's answer gets, decided from its head.
    public struct AnswerFields: Sendable, Equatable {
        /// `Access-Control-Allow-Origin` and the fields that go with it; empty for another or no origin.
        public var fields: [Field]
        /// Whether CORS is on: the answer gets `Vary: Origin` and loses the upstream's `Access-Control-*` fields.
        public var isActive: Bool

        /// CORS off (no `[cors]`): the answer is left as it is.
        public static let none = AnswerFields(fields: [], isActive: false)

        /// The lines to add to an answer that already has `existing` fields (after `ownsField` removed the
        /// upstream's CORS fields): these, and `Vary: Origin` unless a `Vary` line lists `Origin` or `*` already.
        /// The answer depends on `Origin` whether or not it carries CORS fields: without `Vary`, a browser cache
        /// could hand an answer made for a request without `Origin` to a CORS request (Fetch standard, "CORS
        /// protocol and HTTP caches").
        public func lines(after existing: [(name: String, value: String)]) -> [Field] {
            guard isActive else { return [] }
            let varies = existing.contains { field in
                ASCIICase.equals(field.name, "vary")
                    && (FieldValueList.contains(field.value, "origin") || FieldValueList.contains(field.value, "*"))
            }
            return varies ? fields : fields + [Field("Vary", "Origin")]
        }
    }

    public let config: CorsConfig
    private let allowedOrigins: Set<String>
    private let allowMethods: String
    private let allowHeaders: String
    private let exposeHeaders: String
    private let maxAge: String

    public init(_ config: CorsConfig) {
        self.config = config
        allowedOrigins = Set(config.allowOrigins)
        allowMethods = config.allowMethods.joined(separator: ", ")
        allowHeaders = config.allowHeaders.joined(separator: ", ")
        exposeHeaders = config.exposeHeaders.joined(separator: ", ")
        maxAge = String(config.maxAge.components.seconds)
    }

    /// Whether `origin` may read the gateway's answers: one of `allow_origins`, byte for byte (browsers serialise
    /// origins in lower case without a default port, the form the configuration is normalised to).
    public func allows(origin: String) -> Bool {
        allowedOrigins.contains(origin)
    }

    public func decide(_ request: CorsRequest) -> Decision {
        // Two Origin lines are no browser's: neither is trusted.
        let allowedOrigin = request.originCount == 1 ? request.origin.flatMap { allows(origin: $0) ? $0 : nil } : nil
        if request.isPreflight {
            guard let origin = allowedOrigin else { return .refusePreflight }
            var fields = [Field("Access-Control-Allow-Origin", origin)]
            if config.allowCredentials { fields.append(Field("Access-Control-Allow-Credentials", "true")) }
            // The lists are the configured ones whatever the preflight asked for: the browser compares them with
            // its request and names what is missing in its console, which a refusal without fields would not.
            // `allow_methods = []`: only the CORS-safelisted methods (GET, HEAD, POST), which need no field.
            if !allowMethods.isEmpty { fields.append(Field("Access-Control-Allow-Methods", allowMethods)) }
            fields.append(Field("Access-Control-Allow-Headers", allowHeaders))
            fields.append(Field("Access-Control-Max-Age", maxAge))
            fields.append(Field("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"))
            return .answerPreflight(fields)
        }
        if request.isWebSocketUpgrade, config.checkWebSocketOrigin, request.origin != nil, allowedOrigin == nil {
            return .refuseWebSocket
        }
        guard let origin = allowedOrigin else { return .decorate(AnswerFields(fields: [], isActive: true)) }
        var fields = [Field("Access-Control-Allow-Origin", origin)]
        if config.allowCredentials { fields.append(Field("Access-Control-Allow-Credentials", "true")) }
        if !exposeHeaders.isEmpty { fields.append(Field("Access-Control-Expose-Headers", exposeHeaders)) }
        return .decorate(AnswerFields(fields: fields, isActive: true))
    }

    /// Whether an upstream answer's field is one the gateway owns while CORS is on (`Access-Control-*`, any case):
    /// dropped, so the answer says only what `[cors]` says.
    public static func ownsField(_ name: some StringProtocol) -> Bool {
        let prefix = "access-control-"
        guard name.utf8.count > prefix.utf8.count else { return false }
        return ASCIICase.equals(Substring(name).prefix(prefix.count), prefix)
    }
}
