/// `[server] admin_token`: the bearer credential the admin listener asks for on `/metrics` and `/sessions*`
/// (`AdminEndpoint.requiresAdminToken`). Without one configured, every request is admitted (a loopback listener:
/// the config refuses any other without a token).
public struct AdminCredential: Sendable, Equatable {
    public let token: String?

    public init(token: String?) {
        self.token = token
    }

    /// Whether the `Authorization` field carries the token (RFC 6750 section 2.1: scheme `Bearer`, any case).
    /// Compared in constant time over the configured token's length, so the time an answer takes does not tell
    /// how much of a guess was right.
    public func admits(authorization: String?) -> Bool {
        guard let token else { return true }
        guard let authorization else { return false }
        let scheme = "bearer "
        guard authorization.utf8.count > scheme.utf8.count,
            authorization.prefix(scheme.count).lowercased() == scheme
        else { return false }
        let presented = Array(authorization.utf8.dropFirst(scheme.utf8.count))
        let expected = Array(token.utf8)
        var difference = UInt8(presented.count == expected.count ? 0 : 1)
        for index in expected.indices {
            difference |= expected[index] ^ (index < presented.count ? presented[index] : 0)
        }
        return difference == 0
    }
}
