import Tracing

/// A point in time for a span that is recorded after the fact (a WeChat call reported when it ended, with how long
/// it took).
struct SpanInstant: TracerInstant {
    var nanosecondsSinceEpoch: UInt64

    static func < (lhs: SpanInstant, rhs: SpanInstant) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    /// `seconds` before now.
    static func ago(_ seconds: Double) -> SpanInstant {
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        let back = UInt64(max(0, seconds) * 1e9)
        return SpanInstant(nanosecondsSinceEpoch: now > back ? now - back : 0)
    }
}
