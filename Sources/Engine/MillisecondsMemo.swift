/// `Duration` to whole milliseconds (libcurl's `_MS` options), remembering the last few conversions: a worker sees
/// the same few route timeouts on every request, and each conversion through `Duration.components` is a 128-bit
/// division.
struct MillisecondsMemo {
    private var durations: [Duration] = []
    private var milliseconds: [Int] = []
    /// Routes rarely have more distinct timeouts than this; past it the oldest is forgotten.
    private let capacity = 8

    mutating func of(_ duration: Duration) -> Int {
        if let index = durations.firstIndex(of: duration) { return milliseconds[index] }
        let converted = Self.convert(duration)
        if durations.count == capacity {
            durations.removeFirst()
            milliseconds.removeFirst()
        }
        durations.append(duration)
        milliseconds.append(converted)
        return converted
    }

    /// Whole milliseconds, truncated.
    static func convert(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
