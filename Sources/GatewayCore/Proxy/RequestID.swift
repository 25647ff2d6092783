import JSON
import Synchronization

/// Request ids: the client's `X-Request-Id` when it is a sane token (so a trace can cross the gateway),
/// otherwise 32 hex digits: a random per-process prefix and a counter. Unique within and across runs
/// without a `getrandom` call per request; ids identify requests, they are not secrets.
public enum RequestID {
    public static func accept(_ value: Substring?) -> String? {
        guard let value, (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ HeaderName.isTokenByte($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "/") })
        else { return nil }
        return String(value)
    }

    /// 16 hex digits, fixed for the process.
    /// 64 random bits per process, so ids of two instances behind one load balancer do not collide.
    private static let prefix: [UInt8] = Array(Hex.lowercase(RandomBytes.make(8)).utf8)

    private static let counter = Atomic<UInt64>(0)

    public static func generate() -> String {
        let (next, _) = counter.add(1, ordering: .relaxed)
        // Written in place: one allocation per id instead of a String per part.
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for index in 0..<16 { buffer[index] = prefix[index] }
            Hex.write(next, into: UnsafeMutableBufferPointer(rebasing: buffer[16..<32]))
            return 32
        }
    }
}
