/// A token bucket (RFC 2697's idea, without colours): `capacity` requests at once, refilled at
/// `ratePerSecond`. Pure state, driven by a monotonic clock reading in seconds.
public struct TokenBucket: Sendable, Equatable {
    public let capacity: Double
    public let ratePerSecond: Double
    private var tokens: Double
    private var updatedAt: Double

    public init(capacity: Double, ratePerSecond: Double, now: Double) {
        self.capacity = capacity
        self.ratePerSecond = ratePerSecond
        self.tokens = capacity
        self.updatedAt = now
    }

    /// Takes one token; otherwise tells how many seconds until one is available (for `Retry-After`).
    public mutating func take(now: Double) -> Result<Void, RetryAfter> {
        tokens = min(capacity, tokens + max(0, now - updatedAt) * ratePerSecond)
        updatedAt = now
        if tokens >= 1 {
            tokens -= 1
            return .success(())
        }
        return .failure(RetryAfter(seconds: Int(((1 - tokens) / ratePerSecond).rounded(.up))))
    }

    /// Whether the bucket is full again, so its entry can be forgotten.
    public func isFull(now: Double) -> Bool {
        tokens + max(0, now - updatedAt) * ratePerSecond >= capacity
    }

    public struct RetryAfter: Error, Equatable, Sendable {
        public var seconds: Int
    }
}
