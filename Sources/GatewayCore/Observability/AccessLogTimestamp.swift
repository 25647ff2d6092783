import Foundation
import JSON

/// The access log's `time`: RFC 3339 in UTC with milliseconds, from `gmtime_r` (a DateFormatter is neither cheap nor
/// safe to share). Everything up to the milliseconds ("2023-11-14T22:13:20.") depends only on the whole second, so
/// each thread keeps the last one it wrote and calls `gmtime_r` once per second rather than once per request: glibc
/// takes a process-wide lock for it (`__tz_convert`), which every engine worker would otherwise take per request.
enum AccessLogTimestamp {
    /// The most `write` writes: a year of up to 11 characters (an `Int32` and its sign), 16 for the rest of the
    /// prefix, up to 4 for the milliseconds (a minus sign before 1970) and the "Z".
    static let maximumLength = 32

    /// Writes `date` as the access log always has. The milliseconds are truncated, not rounded, and before 1970 they
    /// count back from the second after (`time_t` truncates toward zero): "1969-12-31T23:59:59.-250Z" is what the
    /// String-built line wrote, and the line's format does not change.
    static func write(_ date: Date, to line: inout JSONByteCursor) {
        let time = date.timeIntervalSince1970
        let seconds = time_t(time)
        let millis = Int((time - Double(seconds)) * 1000)
        let cache = threadCache()
        if cache.pointee.length == 0 || cache.pointee.seconds != seconds {
            cache.pointee.seconds = seconds
            cache.pointee.length = withUnsafeMutableBytes(of: &cache.pointee.prefix) { prefix in
                var cursor = JSONByteCursor(prefix.bindMemory(to: UInt8.self))
                writePrefix(seconds, to: &cursor)
                return cursor.count
            }
        }
        withUnsafeBytes(of: cache.pointee.prefix) { prefix in
            line.appendBytes(UnsafeBufferPointer(rebasing: prefix.bindMemory(to: UInt8.self)[..<cache.pointee.length]))
        }
        if (0..<1000).contains(millis) {
            let digits = line.advance(by: 3)
            digits[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: millis / 100)
            digits[1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: millis / 10 % 10)
            digits[2] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: millis % 10)
        } else {
            writePadded(millis, width: 3, to: &line)
        }
        line.appendByte(UInt8(ascii: "Z"))
    }

    /// "YYYY-MM-DDTHH:MM:SS." for `seconds`.
    static func writePrefix(_ seconds: time_t, to line: inout JSONByteCursor) {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        writePadded(Int(parts.tm_year + 1900), width: 4, to: &line)
        line.appendByte(UInt8(ascii: "-"))
        writePadded(Int(parts.tm_mon + 1), width: 2, to: &line)
        line.appendByte(UInt8(ascii: "-"))
        writePadded(Int(parts.tm_mday), width: 2, to: &line)
        line.appendByte(UInt8(ascii: "T"))
        writePadded(Int(parts.tm_hour), width: 2, to: &line)
        line.appendByte(UInt8(ascii: ":"))
        writePadded(Int(parts.tm_min), width: 2, to: &line)
        line.appendByte(UInt8(ascii: ":"))
        writePadded(Int(parts.tm_sec), width: 2, to: &line)
        line.appendByte(UInt8(ascii: "."))
    }

    /// `value` with zeros in front up to `width` characters. The zeros go before a minus sign, as the String-built
    /// timestamp always wrote them; only a time before 1970 has one.
    private static func writePadded(_ value: Int, width: Int, to line: inout JSONByteCursor) {
        let length = JSONByteWriter.digitCount(value.magnitude) + (value < 0 ? 1 : 0)
        for _ in length..<max(length, width) {
            line.appendByte(UInt8(ascii: "0"))
        }
        line.appendInteger(value)
    }

    /// The prefix a thread wrote last, with the second it is for; `length` 0 until the first.
    private struct PrefixCache {
        var seconds: time_t = 0
        var length = 0
        /// Room for `maximumLength` bytes.
        var prefix: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    }

    /// One cache per thread, so threads never share one (no lock, no atomics); freed when its thread ends.
    private static let cacheKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { cache in cache?.deallocate() }
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()

    private static func threadCache() -> UnsafeMutablePointer<PrefixCache> {
        if let cache = pthread_getspecific(cacheKey) {
            return cache.assumingMemoryBound(to: PrefixCache.self)
        }
        let cache = UnsafeMutablePointer<PrefixCache>.allocate(capacity: 1)
        cache.initialize(to: PrefixCache())
        pthread_setspecific(cacheKey, cache)
        return cache
    }
}
