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

    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        return hex(generator.next())
    }()

    private static let counter = Atomic<UInt64>(0)

    public static func generate() -> String {
        let (next, _) = counter.add(1, ordering: .relaxed)
        return prefix + hex(next)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
