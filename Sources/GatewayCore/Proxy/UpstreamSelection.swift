/// Round-robin over a route's upstreams with passive ejection (docs/configuration.md, "Forwarding"): an
/// upstream that refuses a connection is skipped for `ejectionNanoseconds`, then tried again. Pure state: it
/// takes events and a monotonic clock reading, and is tested without sockets.
public struct UpstreamSelection: Sendable, Equatable {
    public let count: Int
    public let ejectionNanoseconds: UInt64
    private var next = 0
    /// Monotonic time until which each upstream is ejected; 0 when it is in rotation.
    private var ejectedUntil: [UInt64]

    public init(count: Int, ejectionNanoseconds: UInt64 = 10_000_000_000) {
        precondition(count > 0, "a route has at least one upstream")
        self.count = count
        self.ejectionNanoseconds = ejectionNanoseconds
        self.ejectedUntil = Array(repeating: 0, count: count)
    }

    /// The next upstream in rotation, skipping ejected ones and `excluded` (the one a retry failed on).
    /// When every candidate is ejected it fails open and returns the one whose ejection ends first:
    /// refusing all traffic because of a stale verdict would turn a blip into an outage.
    /// Returns nil only when nothing is left besides `excluded`.
    public mutating func pick(now: UInt64, excluding excluded: Int? = nil) -> Int? {
        var fallback: Int?
        for step in 0..<count {
            let index = (next + step) % count
            if index == excluded { continue }
            if ejectedUntil[index] <= now {
                next = (index + 1) % count
                return index
            }
            if fallback.map({ ejectedUntil[index] < ejectedUntil[$0] }) ?? true { fallback = index }
        }
        if let fallback { next = (fallback + 1) % count }
        return fallback
    }

    /// A connection to `index` was refused or could not be made.
    public mutating func recordConnectFailure(_ index: Int, now: UInt64) {
        ejectedUntil[index] = now + ejectionNanoseconds
    }

    /// An exchange with `index` succeeded: it is back in rotation at once.
    public mutating func recordSuccess(_ index: Int) {
        if ejectedUntil[index] != 0 { ejectedUntil[index] = 0 }
    }

    public func isEjected(_ index: Int, now: UInt64) -> Bool { ejectedUntil[index] > now }
}
