import NIOConcurrencyHelpers
import NIOCore

/// Token buckets per key: per client address for `/auth/login`, `/auth/token`, `/auth/revoke` and `/auth/logout`,
/// per user for `/auth/phone`. A scripted loop from one address (or one user) gets 429 with `Retry-After`,
/// everyone else is unaffected.
public final class RateLimiter: Sendable {
    private struct State {
        var buckets: [String: TokenBucket] = [:]
        var lastSweep: Double = 0
    }

    public let requestsPerMinute: Int
    public let burst: Int
    private let state = NIOLockedValueBox(State())

    public init(requestsPerMinute: Int, burst: Int) {
        self.requestsPerMinute = requestsPerMinute
        self.burst = burst
    }

    public static func monotonicSeconds() -> Double { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }

    /// nil when allowed; otherwise the seconds to wait.
    public func check(_ client: String, now: Double = RateLimiter.monotonicSeconds()) -> Int? {
        let rate = Double(requestsPerMinute) / 60
        return state.withLockedValue { state in
            // Forget full buckets now and then, so the table only holds recently busy addresses.
            if now - state.lastSweep > 60 {
                state.buckets = state.buckets.filter { !$0.value.isFull(now: now) }
                state.lastSweep = now
            }
            var bucket = state.buckets[client] ?? TokenBucket(capacity: Double(burst), ratePerSecond: rate, now: now)
            let result = bucket.take(now: now)
            state.buckets[client] = bucket
            switch result {
            case .success: return nil
            case .failure(let wait): return max(1, wait.seconds)
            }
        }
    }
}
