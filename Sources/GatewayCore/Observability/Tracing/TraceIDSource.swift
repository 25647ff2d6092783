import JSON
import Synchronization

/// Trace and span ids for requests when no tracer makes them (`[tracing]` export off): cheap, without a `getrandom`
/// call per request, as `RequestID` does. A random per-process half keeps two instances' trace ids apart; the
/// other half is a counter through SplitMix64, a bijection, so ids within a process never repeat and are not
/// sequential to look at. They identify requests across logs and upstream traces; they are not secrets.
public enum TraceIDSource {
    private static let processHalf: UInt64 = RandomBytes.uint64() | 1
    private static let key: UInt64 = RandomBytes.uint64()
    private static let counter = Atomic<UInt64>(0)

    /// A new trace id, never all zero (W3C Trace Context section 3.2.2.3): the process half is odd.
    public static func traceID() -> (high: UInt64, low: UInt64) {
        (processHalf, mix(next()))
    }

    /// A new span id, never zero (section 3.2.2.4).
    public static func spanID() -> UInt64 {
        let id = mix(next() ^ key)
        return id == 0 ? 1 : id
    }

    private static func next() -> UInt64 {
        counter.add(1, ordering: .relaxed).newValue
    }

    /// SplitMix64's finaliser (Steele, Lea, Flood 2014): every input maps to a different output.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
