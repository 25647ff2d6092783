/// `[rate_limit]`: token buckets per client address on `/auth/login`, `/auth/token`, `/auth/revoke` and
/// `/auth/logout` together, and per user on `/auth/phone` and `/auth/profile`.
public struct RateLimitConfig: Sendable, Equatable {
    /// Sustained requests per minute from one address to `/auth/login`, `/auth/token`, `/auth/revoke` and
    /// `/auth/logout` together.
    public var authPerMinute = 120
    /// How many may come at once before the rate applies.
    public var authBurst = 60
    /// Sustained `/auth/phone` or `/auth/profile` calls per minute from one user (per appid and openid): each
    /// spends the app's WeChat quota (`getuserphonenumber`, `/sns/userinfo`), and a user needs the answer once, not
    /// in a loop. One bucket serves both: phone is for mini-programs only, the profile for web apps only.
    public var phonePerMinute = 10
    public var phoneBurst = 5

    public init() {}

    static func decode(_ reader: ConfigReader?) -> RateLimitConfig {
        var config = RateLimitConfig()
        guard let reader else { return config }
        for (key, keyPath) in [
            ("auth_per_minute", \RateLimitConfig.authPerMinute), ("auth_burst", \RateLimitConfig.authBurst),
            ("phone_per_minute", \RateLimitConfig.phonePerMinute), ("phone_burst", \RateLimitConfig.phoneBurst),
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
