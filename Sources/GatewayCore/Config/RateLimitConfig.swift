/// `[rate_limit]`: per-client-address limits on the login and token endpoints (token bucket).
public struct RateLimitConfig: Sendable, Equatable {
    /// Sustained requests per minute from one address to `/auth/login` and `/auth/token` together.
    public var authPerMinute = 120
    /// How many may come at once before the rate applies.
    public var authBurst = 60

    public init() {}

    static func decode(_ reader: ConfigReader?) -> RateLimitConfig {
        var config = RateLimitConfig()
        guard let reader else { return config }
        for (key, keyPath) in [
            ("auth_per_minute", \RateLimitConfig.authPerMinute), ("auth_burst", \RateLimitConfig.authBurst),
        ] {
            if let value = reader.integer(key) {
                if (1...1_000_000).contains(value) {
                    config[keyPath: keyPath] = value
                } else {
                    reader.report(key, "must be between 1 and 1000000")
                }
            }
        }
        reader.rejectUnknownKeys()
        return config
    }
}
