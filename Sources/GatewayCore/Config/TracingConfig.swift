/// `[tracing]` (docs/configuration.md, "Tracing"): where spans are exported over OTLP/HTTP, under which service
/// name, how many new traces are sampled, and whether spans name the caller. Without `endpoint` nothing is exported,
/// but trace ids are still taken from `traceparent` or made, passed upstream and written in the access log.
public struct TracingConfig: Sendable, Equatable {
    /// The collector's base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` (`http://collector:4318`): spans go to
    /// `<endpoint>/v1/traces`. Nil: export off.
    public var endpoint: String?
    public var serviceName = "wechat-gateway"
    /// The share of new traces (no sampled parent) recorded; a caller's sampled flag is always followed.
    public var sampleRatio = 1.0
    /// Whether request spans carry `enduser.id` = the caller's openid (personal data: off unless asked for).
    public var includeOpenid = false

    public init() {}

    /// Where the OTLP/HTTP exporter posts (OTLP specification, "OTLP/HTTP Request": `/v1/traces` after the base).
    public var tracesURL: String? {
        guard let endpoint else { return nil }
        return endpoint.hasSuffix("/") ? "\(endpoint)v1/traces" : "\(endpoint)/v1/traces"
    }

    static func decode(_ reader: ConfigReader?) -> TracingConfig {
        var config = TracingConfig()
        guard let reader else { return config }
        if let text = reader.string("endpoint") {
            if let url = UpstreamURL(configText: text), url.unixSocketPath == nil {
                config.endpoint = "\(url.scheme.rawValue)://\(url.authority)\(url.basePath)"
            } else {
                reader.report(
                    "endpoint",
                    "\"\(RedactedURL.text(text))\" is not an http(s) collector URL such as http://127.0.0.1:4318")
            }
        }
        if let name = reader.string("service_name") {
            if name.isEmpty || name.utf8.count > 255 {
                reader.report("service_name", "must be 1 to 255 characters")
            } else {
                config.serviceName = name
            }
        }
        if let ratio = reader.number("sample_ratio") {
            if ratio.isFinite, (0...1).contains(ratio) {
                config.sampleRatio = ratio
            } else {
                reader.report("sample_ratio", "must be between 0 and 1 (the share of new traces recorded)")
            }
        }
        if let flag = reader.bool("include_openid") { config.includeOpenid = flag }
        reader.rejectUnknownKeys()
        return config
    }
}
