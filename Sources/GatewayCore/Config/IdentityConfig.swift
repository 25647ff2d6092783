/// `[identity]`: the header names that carry the caller's identity to upstream services.
public struct IdentityConfig: Sendable, Equatable {
    public var openidHeader = "X-OpenId"
    public var unionidHeader = "X-UnionId"
    public var appidHeader = "X-AppId"
    /// The app's kind (`miniprogram`, `officialaccount`, `website`), so one upstream can serve every front end.
    public var appKindHeader = "X-App-Kind"

    public init() {}

    static func decode(_ reader: ConfigReader?) -> IdentityConfig {
        var config = IdentityConfig()
        guard let reader else { return config }
        for (key, keyPath) in [
            ("openid_header", \IdentityConfig.openidHeader), ("unionid_header", \IdentityConfig.unionidHeader),
            ("appid_header", \IdentityConfig.appidHeader), ("app_kind_header", \IdentityConfig.appKindHeader),
        ] {
            if let name = reader.string(key) {
                if HeaderName.isValid(name) {
                    config[keyPath: keyPath] = name
                } else {
                    reader.report(key, "\"\(name)\" is not a valid header name")
                }
            }
        }
        let names = [config.openidHeader, config.unionidHeader, config.appidHeader, config.appKindHeader].map {
            HeaderName.canonical($0)
        }
        if Set(names).count != names.count {
            reader.report(
                nil, "openid_header, unionid_header, appid_header and app_kind_header must be four different headers")
        }
        reader.rejectUnknownKeys()
        return config
    }
}
