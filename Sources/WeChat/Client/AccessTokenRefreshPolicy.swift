/// When a cached stable access token must be fetched again. WeChat renews a stable token during
/// its last 5 minutes ("获取稳定版接口调用凭据"), so the cache lets go of it 5 minutes before
/// `expires_in`, or at half its life when it is shorter than that.
enum AccessTokenRefreshPolicy {
    static let margin = Duration.seconds(300)

    static func refreshAt(receivedAt: ContinuousClock.Instant, expiresIn: Duration) -> ContinuousClock.Instant {
        let usable = expiresIn > margin * 2 ? expiresIn - margin : expiresIn / 2
        return receivedAt.advanced(by: usable)
    }
}
